"""Where candles come from: the local store, else a file of the shared data folder imported into it.

When neither has the series, :func:`ensure_candles` says how to import a file or download the
candles from the exchange (``candlewick data download``).
"""

from __future__ import annotations

import gzip
import re
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from candlewick.core.timeframes import is_multiple, timeframe_ms
from candlewick.core.types import Candles
from candlewick.core.validation import Gap, find_gaps
from candlewick.data.coverage import Coverage
from candlewick.data.csv_import import parse_candle_filename, read_candle_csv
from candlewick.data.names import check_timeframe, normalise_exchange, normalise_pair, pair_slug
from candlewick.data.quarantine import set_aside
from candlewick.data.store import CandleStore, SourceChoice, StoreEntry
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
    data_dir: Path | None,
    exchange: str,
    pair: str,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> tuple[Path, str] | None:
    """The shared data file to build ``timeframe`` candles over ``[start_ms, end_ms]`` from,
    and that file's timeframe.

    The rule of :meth:`CandleStore.choose_source`, on the files
    ``<exchange>_<BASE>-<QUOTE>_<tf>.csv[.gz]`` of the pair whose timeframe is ``timeframe``
    or divides it: the file of ``timeframe`` itself when it spans the window (an open bound is
    spanned), else the file delivering the most bars of the window, judged from its first and
    last bar (``timeframe`` itself on a tie, then the finest, then the longest file). Segment
    files (a ``_<YYYY-MM>`` suffix: shorter series of the pair, disjoint from the main file)
    compete on the bars they deliver, so a window only a segment holds is read from it.
    """
    folder = None if data_dir is None else data_dir / "candles"
    if folder is None or not folder.is_dir():
        return None
    name = re.compile(
        rf"^{re.escape(exchange)}_{re.escape(pair_slug(pair))}_(\d+[mhdw])"
        rf"(_\d{{4}}-\d{{2}})?\.csv(?:\.gz)?$"
    )
    main: dict[str, Path] = {}
    candidates: list[tuple[str, Path]] = []
    for path in sorted(folder.iterdir()):
        match = name.match(path.name)
        if match is not None and is_multiple(timeframe, match[1]):
            candidates.append((match[1], path))
            if match[2] is None:
                main.setdefault(match[1], path)
    if not candidates:
        return None
    if timeframe in main:
        if start_ms is None and end_ms is None:
            return main[timeframe], timeframe  # an open window: spanned without looking
        first, last = _csv_bounds(main[timeframe])
        if (start_ms is None or first <= start_ms) and (
            end_ms is None or last + timeframe_ms(timeframe) > end_ms
        ):
            return main[timeframe], timeframe

    def rank(candidate: tuple[str, Path]) -> tuple[int, bool, int, bool]:
        tf, path = candidate
        bars = estimated_bars(path, timeframe, start_ms, end_ms)
        return bars, tf == timeframe, -timeframe_ms(tf), main.get(tf) == path

    best_tf, best_path = max(candidates, key=rank)
    return best_path, best_tf


def estimated_bars(path: Path, timeframe: str, start_ms: int | None, end_ms: int | None) -> int:
    """How many ``timeframe`` bars a candle file can give in ``[start_ms, end_ms]``, from its
    first and last bar (gaps inside are not seen): 0 when it does not reach the window."""
    first, last = _csv_bounds(path)
    lo = first if start_ms is None else max(first, start_ms)
    hi = last if end_ms is None else min(last, end_ms)
    return 0 if hi < lo else (hi - lo) // timeframe_ms(timeframe) + 1


@lru_cache(maxsize=256)
def _csv_bounds(path: Path) -> tuple[int, int]:
    """First and last timestamp of a (read-only, shared) candle CSV, from its first and last
    lines only; (0, -1) when it cannot be read here (the import will say what is wrong)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as fh:
            next(fh, None)  # header
            first = next(fh, "")
            last = deque(fh, maxlen=1)  # gzip cannot seek to the end: stream through
        head = int(first.split(",", 1)[0])
        return head, int(last[0].split(",", 1)[0]) if last else head
    except (OSError, ValueError):
        return 0, -1


@dataclass(frozen=True, slots=True)
class LoadedSeries:
    """Candles loaded for a run: the bars, their :class:`Coverage` (bar count, first and last
    bar, native or resampled from which stored timeframe) and a sentence saying where they
    came from."""

    candles: Candles
    coverage: Coverage
    note: str


def load_series(
    store: CandleStore,
    exchange: str,
    pair: str,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    data_dir: Path | None = None,
) -> LoadedSeries:
    """The ``timeframe`` bars opening in ``[start_ms, end_ms)`` (``end_ms`` excluded; an open
    bound takes everything), with their coverage and where they came from.

    The stored series is chosen by :meth:`CandleStore.choose_source`. When it does not cover
    the window (with an open window: when ``timeframe`` itself is not stored), the shared data
    folder (``data_dir``, default :func:`candlewick.paths.shared_data_dir`) is looked at too,
    and its best file (:func:`shared_candle_file`) is imported first if it gives more bars of
    the window; the store then chooses again. Raises DataNotFoundError explaining how to import
    or download the candles when neither has them.
    """
    exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
    check_timeframe(timeframe)
    last = None if end_ms is None else end_ms - 1
    choice = store.choose_source(exchange, pair, timeframe, start_ms, last)
    origin = f"read from the local candle store ({store.root})"
    imported: tuple[Path, str] | None = None
    if choice is None or not choice.covers:
        shared = shared_data_dir() if data_dir is None else data_dir
        found = shared_candle_file(shared, exchange, pair, timeframe, start_ms, last)
        if found is None and choice is None:
            where = f"in {shared / 'candles'}" if shared is not None else "(no shared data folder)"
            raise DataNotFoundError(
                f"{store.describe_missing(exchange, pair, timeframe)}. No file "
                f"{exchange}_{pair_slug(pair)}_{timeframe}.csv[.gz], nor one of a finer "
                f"timeframe dividing {timeframe}, {where} either. Or download them from the "
                f"exchange: candlewick data download --exchange {exchange} --pairs {pair} "
                f"--timeframes {timeframe} --since YYYY-MM-DD"
            )
        if found is not None:
            series = (exchange, pair, timeframe)
            origin, imported = _import_if_better(store, found, choice, series, start_ms, last)
    candles, coverage = store.read_with_coverage(exchange, pair, timeframe, start_ms, last)
    if imported and coverage.source_timeframe != imported[1]:  # the estimate was too kind
        origin = f"read from the local candle store ({store.root}; {imported[0]} was imported too)"
    return LoadedSeries(candles, coverage, f"{coverage.describe()}, {origin}")


def _import_if_better(
    store: CandleStore,
    found: tuple[Path, str],
    choice: SourceChoice | None,
    series: tuple[str, str, str],
    start_ms: int | None,
    end_ms: int | None,
) -> tuple[str, tuple[Path, str] | None]:
    """Import the shared file ``found`` for ``series`` (exchange, pair, timeframe) when it
    gives more ``timeframe`` bars of the window than the store's ``choice`` (always when there
    is none). Returns the origin of the bars for the note, and ``found`` when it was imported.
    A file that cannot be imported is said in the note when the store has bars of its own,
    else its DataError is raised."""
    path, file_timeframe = found
    exchange, pair, timeframe = series
    in_store = f"read from the local candle store ({store.root})"
    if choice is not None and estimated_bars(path, timeframe, start_ms, end_ms) <= (
        choice.bars or 0
    ):
        return in_store, None
    try:
        result = import_file(store, path, exchange, pair, file_timeframe)
    except DataError as exc:
        if choice is None:
            raise
        return f"{in_store}; {path} would cover more but was not imported: {exc}", None
    origin = (
        f"imported just now from {path} ({result.rows_read:,} bars) into the local candle "
        f"store ({store.root})"
    )
    return " ".join([origin, *result.warnings]), found


def ensure_candles(
    store: CandleStore,
    exchange: str,
    pair: str,
    timeframe: str,
    *,
    data_dir: Path | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> tuple[Candles, str]:
    """The candles of :func:`load_series` and its sentence saying where they came from."""
    loaded = load_series(store, exchange, pair, timeframe, start_ms, end_ms, data_dir=data_dir)
    return loaded.candles, loaded.note
