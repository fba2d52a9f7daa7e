"""Read candle CSV files (plain or gzip) into :class:`Candles`, and name them from file names.

The format: header ``timestamp,open,high,low,close,volume``, ``timestamp`` the bar open time in
integer milliseconds UTC. Rows are sorted by timestamp and exact duplicate rows dropped; a
timestamp repeated with different values, a row that breaks the OHLC rules, a row off the
timeframe's grid or an empty cell is refused with a DataError naming the file, the timestamps
and the problem (nothing is repaired silently).

File names follow the shared data folder's convention,
``<exchange>_<BASE>-<QUOTE>[-PERP]_<timeframe>[_<YYYY-MM>].csv[.gz]``:

* the exchange is the first token as written, in lower case (``binancefutures`` stays
  ``binancefutures``: the store keeps venues apart exactly as the files do);
* ``BTC-USDT`` is the pair ``BTC/USDT``; ``BTC-USDT-PERP`` is the linear perpetual
  ``BTC/USDT:USDT`` (ccxt's notation, settled in the quote currency);
* the optional ``_<YYYY-MM>`` suffix marks an extra segment of the same series and is ignored;
* a name that does not say both base and quote (``ftx_BTC-PERP_1m``) is not parsed: pass the
  pair explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import F64, I64, OHLCV_COLUMNS, Candles
from candlewick.core.validation import MAX_LISTED, format_ts, validate
from candlewick.data.names import (
    check_timeframe,
    normalise_exchange,
    normalise_pair,
    pair_from_slug,
)
from candlewick.data.store import COLUMNS, column_numpy
from candlewick.errors import DataError

_FILENAME = re.compile(
    r"^(?P<exchange>[A-Za-z0-9.]+)_(?P<pair>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)"
    r"_(?P<timeframe>\d+[A-Za-z]+)(?:_\d{4}-\d{2})?\.csv(?:\.gz)?$"
)
# Millisecond timestamps of any bar since 1973 exceed this; second timestamps never do.
_MIN_MS = 10**11
_FORMAT_HINT = (
    "expected a CSV with header timestamp,open,high,low,close,volume "
    "(timestamp = bar open time in integer milliseconds UTC)"
)


def parse_candle_filename(name: str | Path) -> tuple[str, str, str] | None:
    """``(exchange, pair, timeframe)`` named by a candle file, or None when the name says less.

    ``binance_BTC-USDT_5m.csv.gz`` -> ``("binance", "BTC/USDT", "5m")``;
    ``binancefutures_BTC-USDT-PERP_5m.csv`` -> ``("binancefutures", "BTC/USDT:USDT", "5m")``.
    The timeframe is returned as written; it is checked when the file is read.
    """
    match = _FILENAME.match(Path(name).name)
    if match is None:
        return None
    pair = pair_from_slug(match["pair"])
    if pair is None:
        return None
    return match["exchange"].lower(), pair, match["timeframe"]


@dataclass(frozen=True, slots=True)
class CsvCandles:
    """Candles read from a file, with what the reader dropped on the way."""

    candles: Candles
    rows_read: int
    duplicates_dropped: int


def read_candle_csv(path: Path, exchange: str, pair: str, timeframe: str) -> CsvCandles:
    """Read and check one candle CSV file (``.csv`` or ``.csv.gz``).

    Raises DataError naming the file when it cannot be parsed or its rows are not sound.
    """
    path = Path(path)
    exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
    check_timeframe(timeframe)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    column_types = {"timestamp": pa.int64(), **{name: pa.float64() for name in OHLCV_COLUMNS}}
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=column_types, include_columns=list(COLUMNS)
            ),
        )
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read {path}: {exc}; {_FORMAT_HINT}") from exc
    for name in COLUMNS:
        column = table.column(name)
        if column.null_count:
            nulls = (i for i, null in enumerate(column.is_null().to_pylist()) if null)
            lines = ", ".join(str(i + 2) for i in islice(nulls, MAX_LISTED))  # 1-based, header
            raise DataError(
                f"{path}: {column.null_count} empty {name} value(s), first on line(s) {lines}; "
                "fill or remove those rows"
            )
    ts, *values = (column_numpy(table.column(name)) for name in COLUMNS)
    rows_read = len(ts)
    if rows_read == 0:
        raise DataError(f"{path}: no rows after the header; {_FORMAT_HINT}")
    if int(ts.max()) < _MIN_MS:
        raise DataError(
            f"{path}: timestamps look like seconds (largest {int(ts.max())}); "
            "the format needs milliseconds since the epoch: multiply them by 1000"
        )

    if not bool(np.all(ts[1:] >= ts[:-1])):
        order = np.argsort(ts, kind="stable")
        ts, values = ts[order], [v[order] for v in values]
    ts, values, dropped = _drop_duplicates(path, ts, values)
    candles = Candles(exchange, pair, timeframe, ts, *values)
    report = validate(candles)
    if not report.ok:
        raise DataError(f"{path}: {report.summary()}; fix or remove those rows")
    _check_spacing(path, candles)
    return CsvCandles(candles, rows_read, dropped)


def _drop_duplicates(path: Path, ts: I64, values: list[F64]) -> tuple[I64, list[F64], int]:
    """Drop rows repeating the previous row exactly; refuse a repeated timestamp with other
    values. ``ts`` must be sorted."""
    repeat = np.flatnonzero(ts[1:] == ts[:-1]) + 1
    if len(repeat) == 0:
        return ts, values, 0
    same = np.ones(len(repeat), dtype=np.bool_)
    for column in values:
        same &= column[repeat] == column[repeat - 1]
    conflicts = ts[repeat[~same]]
    if len(conflicts):
        listed = ", ".join(f"{int(t)} ({format_ts(int(t))})" for t in conflicts[:MAX_LISTED])
        raise DataError(
            f"{path}: {len(conflicts)} timestamp(s) appear more than once with different values "
            f"({listed}); keep one row per timestamp"
        )
    keep = np.ones(len(ts), dtype=np.bool_)
    keep[repeat] = False
    return ts[keep], [v[keep] for v in values], len(repeat)


def _check_spacing(path: Path, candles: Candles) -> None:
    """Refuse a file whose bars are all further apart than its timeframe (a wrong timeframe)."""
    if len(candles) < 3:
        return
    spacing = int(np.min(np.diff(candles.timestamp)))
    if spacing > timeframe_ms(candles.timeframe):
        raise DataError(
            f"{path}: read as {candles.timeframe} candles, but no two bars are closer than "
            f"{spacing / 60_000:g} minutes apart; pass the file's real timeframe with --timeframe"
        )
