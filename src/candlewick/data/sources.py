"""Where candles come from: the local store, else a file of the shared data folder imported into it.

When neither has the series, :func:`ensure_candles` says how to import a file or download the
candles from the exchange (``candlewick data download``).
"""

from __future__ import annotations

import gzip
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from candlewick.core.timeframes import is_multiple, timeframe_ms
from candlewick.core.types import Candles
from candlewick.core.validation import Gap, find_gaps, format_ts
from candlewick.data.csv_import import parse_candle_filename, read_candle_csv
from candlewick.data.names import check_timeframe, normalise_exchange, normalise_pair, pair_slug
from candlewick.data.quarantine import set_aside
from candlewick.data.store import CandleStore, StoreEntry
from candlewick.errors import DataError, DataNotFoundError
from candlewick.paths import shared_data_dir


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What importing one file did. ``gaps`` are those of the file's own bars.

    ``quarantined`` bars (lone bars far from the rest) were not stored but set aside in
    ``quarantine_path``; ``warnings`` say so, naming their lines, for the user to read.
    """

    path: Path
    exchange: str
    pair: str
    timeframe: str
    rows_read: int
    duplicates_dropped: int
    added: int
    first_ts: int
    last_ts: int
    gaps: tuple[Gap, ...]
    stored: StoreEntry
    quarantined: int = 0
    quarantine_path: Path | None = None
    warnings: tuple[str, ...] = ()


def import_file(
    store: CandleStore,
    path: Path,
    exchange: str | None = None,
    pair: str | None = None,
    timeframe: str | None = None,
) -> ImportResult:
    """Read a candle CSV file and merge it into the store.

    Exchange, pair and timeframe default to what the file name says (see
    :func:`~candlewick.data.csv_import.parse_candle_filename`); DataError when the name says
    nothing and they are not given, or when the file's bars disagree with stored ones.
    """
    path = Path(path)
    named = parse_candle_filename(path)
    if named is None and None in (exchange, pair, timeframe):
        raise DataError(
            f"cannot tell the exchange, pair and timeframe from the file name {path.name!r} "
            "(expected e.g. binance_BTC-USDT_5m.csv.gz): pass --exchange, --pair and --timeframe"
        )
    if named is not None:
        exchange = exchange or named[0]
        pair = pair or named[1]
        timeframe = timeframe or named[2]
    assert exchange is not None and pair is not None and timeframe is not None
    read = read_candle_csv(path, exchange, pair, timeframe)
    candles = read.candles
    written = store.write(candles)
    aside: Path | None = None
    warnings: tuple[str, ...] = ()
    if read.quarantined is not None:
        aside = set_aside(store, read.quarantined)
        warnings = (
            f"{read.quarantine_note} The bar(s) are in {aside}; if they are right, import that "
            f"file on its own: candlewick data import {aside}",
        )
    return ImportResult(
        path,
        candles.exchange,
        candles.pair,
        candles.timeframe,
        read.rows_read,
        read.duplicates_dropped,
        written.added,
        int(candles.timestamp[0]),
        int(candles.timestamp[-1]),
        find_gaps(candles.timestamp, candles.timeframe),
        written.entry,
        0 if read.quarantined is None else len(read.quarantined),
        aside,
        warnings,
    )


def shared_candle_file(
    data_dir: Path | None, exchange: str, pair: str, timeframe: str
) -> tuple[Path, str] | None:
    """The shared data file to build ``timeframe`` candles from, and that file's timeframe.

    The file ``<exchange>_<BASE>-<QUOTE>_<timeframe>.csv[.gz]`` if present, else, among the
    files of the same pair whose timeframe divides ``timeframe``, the one spanning the longest
    time (the finest on a tie), as :meth:`CandleStore.source_timeframe` chooses. Segment files
    with a ``_<YYYY-MM>`` suffix are not used.
    """
    folder = None if data_dir is None else data_dir / "candles"
    if folder is None or not folder.is_dir():
        return None
    name = re.compile(
        rf"^{re.escape(exchange)}_{re.escape(pair_slug(pair))}_(\d+[mhdw])\.csv(?:\.gz)?$"
    )
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        match = name.match(path.name)
        if match is not None:
            found.setdefault(match[1], path)
    if timeframe in found:
        return found[timeframe], timeframe
    finer = [tf for tf in found if is_multiple(timeframe, tf)]
    if not finer:
        return None
    best = max(finer, key=lambda tf: (_csv_span(found[tf]), -timeframe_ms(tf)))
    return found[best], best


def _csv_span(path: Path) -> int:
    """Last minus first timestamp of a candle CSV, from its first and last lines only."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as fh:
            next(fh, None)  # header
            first = next(fh, "")
            last = deque(fh, maxlen=1)  # gzip cannot seek to the end: stream through
        return int(last[0].split(",", 1)[0]) - int(first.split(",", 1)[0]) if last else 0
    except (OSError, ValueError):
        return 0  # unreadable here: the import will say what is wrong


def ensure_candles(
    store: CandleStore,
    exchange: str,
    pair: str,
    timeframe: str,
    *,
    data_dir: Path | None = None,
) -> tuple[Candles, str]:
    """The candles of the series and a sentence saying where they came from.

    From the local store when it has the series (or a finer timeframe to resample); else the
    matching file of the shared data folder (``data_dir``, by default
    :func:`candlewick.paths.shared_data_dir`) is imported into the store first. Raises
    DataNotFoundError explaining how to import a file when neither has it.
    """
    exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
    check_timeframe(timeframe)
    source = store.source_timeframe(exchange, pair, timeframe)
    if source is not None:
        candles = store.read(exchange, pair, timeframe)
        origin = f"the local candle store ({store.root})"
        return candles, _sentence(candles, source, f"read from {origin}")

    shared = shared_data_dir() if data_dir is None else data_dir
    found = shared_candle_file(shared, exchange, pair, timeframe)
    if found is None:
        where = f"in {shared / 'candles'}" if shared is not None else "(no shared data folder)"
        raise DataNotFoundError(
            f"{store.describe_missing(exchange, pair, timeframe)}. No file "
            f"{exchange}_{pair_slug(pair)}_{timeframe}.csv[.gz], nor one of a finer timeframe "
            f"dividing {timeframe}, {where} either. Or download them from the exchange: "
            f"candlewick data download --exchange {exchange} --pairs {pair} --timeframes "
            f"{timeframe} --since YYYY-MM-DD"
        )
    path, file_timeframe = found
    result = import_file(store, path, exchange, pair, file_timeframe)
    candles = store.read(exchange, pair, timeframe)
    origin = (
        f"imported just now from {path} ({result.rows_read:,} bars) into the local candle "
        f"store ({store.root})"
    )
    return candles, _sentence(candles, file_timeframe, origin)


def _sentence(candles: Candles, source_timeframe: str, origin: str) -> str:
    head = f"{candles.exchange} {candles.pair} {candles.timeframe}: "
    if len(candles) == 0:
        span = "no complete bar"
    else:
        first, last = int(candles.timestamp[0]), int(candles.timestamp[-1])
        span = f"{len(candles):,} bars from {format_ts(first)} to {format_ts(last)} UTC"
    if source_timeframe != candles.timeframe:
        return f"{head}{span}, resampled from {source_timeframe} candles {origin}"
    return f"{head}{span}, {origin}"
