"""How run data becomes column values: JSON documents and compressed arrays.

``config``, ``metrics``, ``meta`` and ``checks`` are stored as JSON: tuples come back as lists,
decimals as strings, numpy scalars as Python numbers, and NaN or infinite floats as ``None``
(PostgreSQL's JSON has no NaN). Arrays are zlib-compressed ``.npy`` bytes.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

import numpy as np
import numpy.typing as npt

from candlewick.errors import StorageError

__all__ = ["decode_array", "encode_array", "jsonable"]


def encode_array(array: npt.NDArray[Any]) -> bytes:
    """``array`` as zlib-compressed ``.npy`` bytes (no pickles)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return zlib.compress(buffer.getvalue(), 1)


def decode_array(data: bytes, name: str) -> npt.NDArray[Any]:
    """The array of :func:`encode_array`'s bytes; StorageError naming ``name`` if damaged."""
    try:
        array: npt.NDArray[Any] = np.load(io.BytesIO(zlib.decompress(data)), allow_pickle=False)
    except (zlib.error, ValueError, OSError) as error:
        raise StorageError(f"the stored series {name!r} is damaged: {error}") from error
    return array


def jsonable(value: Any, where: str) -> Any:
    """``value`` as plain JSON types (see the module docstring); StorageError if impossible."""
    if value is None or isinstance(value, str | bool | int):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, np.generic | np.ndarray):
        return jsonable(value.tolist(), where)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StorageError(f"{where} has the key {key!r}; JSON keys must be strings")
            out[key] = jsonable(item, f"{where}.{key}")
        return out
    if isinstance(value, bytes | bytearray):
        raise StorageError(f"{where} holds bytes; JSON cannot store them, encode them as text")
    if isinstance(value, Sequence | set | frozenset):
        return [jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Enum):
        return jsonable(value.value, where)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    raise StorageError(
        f"{where} holds {type(value).__name__} {value!r:.60}, which cannot be stored as JSON; "
        "convert it to str, int, float, list or dict"
    )
