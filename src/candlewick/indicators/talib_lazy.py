"""TA-Lib, imported on first use: ``talib_lazy.EMA`` is ``talib.EMA``.

Its C library costs about 5 MiB of memory, which a run using only Candlewick's own window
indicators (the reference SMA cross) need not pay.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    import talib

    return getattr(talib, name)
