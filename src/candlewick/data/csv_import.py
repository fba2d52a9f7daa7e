"""Read candle CSV files (plain or gzip) into :class:`Candles`, and name them from file names.

The format: header ``timestamp,open,high,low,close,volume``, ``timestamp`` the bar open time in
integer milliseconds UTC. Rows are sorted by timestamp and exact duplicate rows dropped; a
timestamp repeated with different values, a row that breaks the OHLC rules, a row off the
timeframe's grid, an empty cell, an infinite or implausible value, a bar before 2009 or in the
future, or zero volume on every bar refuses the whole file with a DataError naming the file, the
line of each offending row (the header is line 1), the value and the fix (nothing is repaired
silently). A lone bar far from the rest of the file is set aside instead (see
:attr:`CsvCandles.quarantined`), with a note naming its line.

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
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import F64, I64, OHLCV_COLUMNS, Candles
from candlewick.core.validation import (
    MAX_LISTED,
    ValidationReport,
    find_lone_bars,
    format_ts,
    validate,
)
from candlewick.data.names import (
    check_timeframe,
    normalise_exchange,
    normalise_pair,
    pair_from_slug,
)
from candlewick.data.parquet_file import COLUMNS, column_numpy
from candlewick.data.store import wall_clock_ms
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
    """Candles read from a file, with what the reader dropped or set aside on the way.

    ``quarantined`` holds the lone bars left out of ``candles`` (None when there are none) and
    ``quarantine_note`` says which lines they were and why.
    """

    candles: Candles
    rows_read: int
    duplicates_dropped: int
    quarantined: Candles | None = None
    quarantine_note: str = ""


def read_candle_csv(
    path: Path, exchange: str, pair: str, timeframe: str, *, now_ms: int | None = None
) -> CsvCandles:
    """Read and check one candle CSV file (``.csv`` or ``.csv.gz``).

    Raises DataError naming the file, the lines and the fix when it cannot be parsed or its
    rows are not sound; bars opening after ``now_ms`` (default: the wall clock) are refused.
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

    line_of = np.arange(2, rows_read + 2, dtype=np.int64)  # each row's line in the file
    if not bool(np.all(ts[1:] >= ts[:-1])):
        order = np.argsort(ts, kind="stable")
        ts, values, line_of = ts[order], [v[order] for v in values], line_of[order]
    ts, values, keep = _drop_duplicates(path, ts, values)
    line_of = line_of[keep]
    candles = Candles(exchange, pair, timeframe, ts, *values)
    report = validate(candles, wall_clock_ms() if now_ms is None else now_ms)

    def where(row: int) -> str:
        return f"line {int(line_of[row])}"

    problems = tuple(issue for issue in report.issues if issue.check != "lone")
    if problems:
        raise DataError(
            f"{path}: refused, nothing was stored. "
            f"{ValidationReport(report.rows, problems).summary(where)}"
        )
    quarantined: Candles | None = None
    note = ""
    if not report.ok:  # only lone bars: set them aside
        lone = find_lone_bars(candles.timestamp, timeframe)
        (issue,) = report.issues
        note = f"{path}: set aside, not stored: {issue.describe(where)}"
        quarantined = _take(candles, lone)
        candles = _take(candles, ~lone)
    _check_spacing(path, candles)
    return CsvCandles(candles, rows_read, len(keep) - int(keep.sum()), quarantined, note)


def _take(candles: Candles, mask: npt.NDArray[np.bool_]) -> Candles:
    return Candles(
        candles.exchange,
        candles.pair,
        candles.timeframe,
        candles.timestamp[mask],
        *(candles.column(name)[mask] for name in OHLCV_COLUMNS),
    )


def _drop_duplicates(
    path: Path, ts: I64, values: list[F64]
) -> tuple[I64, list[F64], npt.NDArray[np.bool_]]:
    """Drop rows repeating the previous row exactly; refuse a repeated timestamp with other
    values. ``ts`` must be sorted. Returns the rows kept and the mask of them."""
    keep = np.ones(len(ts), dtype=np.bool_)
    repeat = np.flatnonzero(ts[1:] == ts[:-1]) + 1
    if len(repeat) == 0:
        return ts, values, keep
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
    keep[repeat] = False
    return ts[keep], [v[keep] for v in values], keep


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
