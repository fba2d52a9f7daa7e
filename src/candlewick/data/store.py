"""The local candle store: one Parquet file per exchange, pair and timeframe.

Layout: ``<root>/<exchange>/<pair slug>/<timeframe>.parquet`` where the slug of ``BTC/USDT`` is
``BTC-USDT`` and that of the linear perpetual ``BTC/USDT:USDT`` is ``BTC-USDT-PERP`` (the naming
of the shared data files). The file format is in :mod:`candlewick.data.parquet_file`; the
file's key-value metadata (key ``candlewick``) holds the series' names, first and last
timestamps and gap counts, so listing the store reads only the footers.

The read path imports pyarrow but never pandas. Arrays read from the store may be read-only
views of Arrow memory; copy one before changing it in place. Which stored series a timeframe is
read from over a window, when several could give it, is :meth:`CandleStore.choose_source`'s
rule; :meth:`CandleStore.read_with_coverage` returns the bars with their coverage.

Writes are atomic (a reader never sees a half-written file) and serialised per series: every
writer holds the series' lock file (``<root>/.locks/<exchange>_<pair slug>_<timeframe>.lock``)
while it reads, merges and rewrites, so two processes importing or downloading the same series
at once both land. Readers take no lock.

Nothing implausible is stored: see :meth:`CandleStore.write`.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from candlewick.core.resample import resample
from candlewick.core.timeframes import bucket_start, is_multiple, timeframe_ms
from candlewick.core.types import I64, OHLCV_COLUMNS, Candles
from candlewick.core.validation import (
    ValidationReport,
    all_zero_volume,
    count_gaps,
    format_ts,
    validate,
)
from candlewick.data.coverage import Coverage, coverage_of
from candlewick.data.locking import exclusive_lock
from candlewick.data.names import check_timeframe as check_timeframe
from candlewick.data.names import normalise_exchange as normalise_exchange
from candlewick.data.names import normalise_pair as normalise_pair
from candlewick.data.names import pair_from_slug as pair_from_slug
from candlewick.data.names import pair_slug as pair_slug
from candlewick.data.parquet_file import COLUMNS as COLUMNS
from candlewick.data.parquet_file import (
    META_KEY,
    read_columns,
    read_metadata,
    remove_stale_temp_files,
    write_parquet_atomic,
)
from candlewick.data.parquet_file import column_numpy as column_numpy
from candlewick.errors import DataError, DataNotFoundError

if TYPE_CHECKING:
    import pyarrow.parquet as pq

#: How far a bar may open after this machine's clock (the exchange's clock may run ahead).
CLOCK_SKEW_MS = 60_000


@dataclass(frozen=True, slots=True)
class StoreEntry:
    """One stored series as its file's metadata describes it."""

    exchange: str
    pair: str
    timeframe: str
    first_ts: int
    last_ts: int
    rows: int
    gaps: int
    missing: int
    path: Path


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """The stored series :meth:`CandleStore.choose_source` picked: its ``timeframe``, how many
    bars of the requested timeframe it delivers in the window (None when not counted: the
    requested timeframe itself is stored and covers the window) and whether it covers the
    window (for an open window: whether it is the requested timeframe itself)."""

    timeframe: str
    bars: int | None
    covers: bool


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What :meth:`CandleStore.write` did: the series as now stored and how many bars were new."""

    entry: StoreEntry
    added: int


class CandleStore:
    """The Parquet candle store under ``root`` (see the module documentation for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, exchange: str, pair: str, timeframe: str) -> Path:
        """Where the series is (or would be) stored."""
        return (
            self.root
            / normalise_exchange(exchange)
            / pair_slug(pair)
            / f"{check_timeframe(timeframe)}.parquet"
        )

    def timeframes(self, exchange: str, pair: str) -> list[str]:
        """Timeframes stored for the pair, shortest first."""
        folder = self.root / normalise_exchange(exchange) / pair_slug(pair)
        names = [p.stem for p in folder.glob("*.parquet")] if folder.is_dir() else []
        return sorted((n for n in names if _known(n)), key=timeframe_ms)

    def source_timeframe(
        self,
        exchange: str,
        pair: str,
        timeframe: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> str | None:
        """The stored timeframe :meth:`read` uses for ``[start_ms, end_ms]``, or None:
        ``timeframe`` itself whenever it is stored (what ``data show``, ``data gaps`` and a
        download's check of what is missing must see), else the finer stored timeframe
        :meth:`choose_source` picks."""
        if check_timeframe(timeframe) in self.timeframes(exchange, pair):
            return timeframe
        choice = self.choose_source(exchange, pair, timeframe, start_ms, end_ms)
        return None if choice is None else choice.timeframe

    def choose_source(
        self,
        exchange: str,
        pair: str,
        timeframe: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> SourceChoice | None:
        """The stored series to build ``timeframe`` bars over ``[start_ms, end_ms]`` from.

        The rule: the candidates are ``timeframe`` itself and the stored timeframes that divide
        it. When the window has a bound, ``timeframe`` itself is stored and its span covers the
        window, it is used. Otherwise (and always for an open window with several candidates)
        the candidate delivering the most ``timeframe`` bars in the window is used (its bars
        there counted, a finer series' in buckets); on a tie ``timeframe`` itself, then the
        finest. So 30 days of 1m candles never shadow a stored year of 15m candles, three days
        of 15m candles never shadow 17 months of 5m candles, and a window the 15m series does
        not reach is resampled from the 1m series that has it. ``covers`` says whether the
        choice spans the window (for an open window: whether it is ``timeframe`` itself). None
        when no candidate is stored.
        """
        exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
        stored = self.timeframes(exchange, pair)
        candidates = [tf for tf in stored if is_multiple(check_timeframe(timeframe), tf)]
        if not candidates:
            return None
        open_window = start_ms is None and end_ms is None

        def spans(tf: str) -> bool:
            entry = self._entry(self.path(exchange, pair, tf))
            return (start_ms is None or entry.first_ts <= start_ms) and (
                end_ms is None or entry.last_ts + timeframe_ms(tf) > end_ms
            )

        if timeframe in candidates and (
            candidates == [timeframe] if open_window else spans(timeframe)
        ):
            return SourceChoice(timeframe, None, covers=True)

        def bars(tf: str) -> int:
            ts = self._timestamps(self.path(exchange, pair, tf), start_ms, end_ms)
            if tf == timeframe or len(ts) == 0:
                return len(ts)
            buckets = bucket_start(ts, timeframe)
            return int(np.count_nonzero(buckets[1:] != buckets[:-1])) + 1

        counted = {tf: bars(tf) for tf in candidates}
        best = max(candidates, key=lambda tf: (counted[tf], tf == timeframe, -timeframe_ms(tf)))
        covers = best == timeframe if open_window else spans(best)
        return SourceChoice(best, counted[best], covers=covers)

    def read_with_coverage(
        self,
        exchange: str,
        pair: str,
        timeframe: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> tuple[Candles, Coverage]:
        """The ``timeframe`` bars in ``[start_ms, end_ms]`` (both inclusive) from the stored
        series :meth:`choose_source` picks for the window, and their
        :class:`~candlewick.data.coverage.Coverage`: bar count, first and last bar, and the
        stored timeframe they came from. Raises DataNotFoundError like :meth:`read`."""
        exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
        choice = self.choose_source(exchange, pair, timeframe, start_ms, end_ms)
        if choice is None:
            raise DataNotFoundError(self.describe_missing(exchange, pair, timeframe))
        candles = self._read_from(exchange, pair, timeframe, choice.timeframe, start_ms, end_ms)
        return candles, coverage_of(candles, choice.timeframe)

    def read(
        self,
        exchange: str,
        pair: str,
        timeframe: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> Candles:
        """The stored bars whose open time is in ``[start_ms, end_ms]`` (both inclusive).

        The bars come from the stored series :meth:`source_timeframe` names: ``timeframe``
        itself when stored, else a finer stored timeframe dividing it, resampled (incomplete
        edge buckets are left out). A run that wants the bars best covering a window uses
        :meth:`read_with_coverage`. An empty series is returned when nothing falls in the
        range. Raises DataNotFoundError, naming what is stored and the import command, when
        neither is available.
        """
        exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
        source = self.source_timeframe(exchange, pair, timeframe, start_ms, end_ms)
        if source is None:
            raise DataNotFoundError(self.describe_missing(exchange, pair, timeframe))
        return self._read_from(exchange, pair, timeframe, source, start_ms, end_ms)

    def _read_from(
        self,
        exchange: str,
        pair: str,
        timeframe: str,
        source: str,
        start_ms: int | None,
        end_ms: int | None,
    ) -> Candles:
        """``timeframe`` bars in ``[start_ms, end_ms]`` from the stored ``source`` series."""
        if source == timeframe:
            return self._read_file(self.path(exchange, pair, source), start_ms, end_ms)
        # Widen the range to whole target buckets, so the edge buckets inside it are complete.
        step = timeframe_ms(timeframe)
        lo = None if start_ms is None else _bucket(start_ms, timeframe)
        hi = None if end_ms is None else _bucket(end_ms, timeframe) + step - 1
        fine = self._read_file(self.path(exchange, pair, source), lo, hi)
        return _between(resample(fine, timeframe), start_ms, end_ms)

    def write(self, candles: Candles, *, now_ms: int | None = None) -> WriteResult:
        """Merge ``candles`` into the stored series (union by timestamp) and save it atomically.

        Every writer (import, download, the emulator's fixtures) comes through here, so the
        checks of :func:`~candlewick.core.validation.validate` hold for everything stored:
        bars opening after ``now_ms`` (default :func:`wall_clock_ms`) are refused, and so is a
        series that would have zero volume on every bar (judged on the merged series, so that a
        quiet stretch downloaded into a traded series is fine). Raises DataError when the
        candles fail a check or disagree with stored bars of the same timestamps; nothing is
        changed then.
        """
        exchange = normalise_exchange(candles.exchange)
        pair = normalise_pair(candles.pair)
        timeframe = candles.timeframe
        path = self.path(exchange, pair, timeframe)
        if len(candles) == 0:
            raise DataError(f"nothing to store: the {exchange} {pair} series has no bars")
        now = wall_clock_ms() if now_ms is None else now_ms
        report = validate(candles, now)
        problems = tuple(issue for issue in report.issues if issue.check != "zero_volume")
        refusing = f"refusing to store {exchange} {pair} {timeframe} (nothing was written)"
        if problems:
            raise DataError(f"{refusing}: {ValidationReport(report.rows, problems).summary()}")
        new = Candles(exchange, pair, timeframe, *(_arrays(candles)))
        with self.lock(exchange, pair, timeframe):
            remove_stale_temp_files(path)
            merged, added = new, len(new)
            if path.exists():
                stored = self._read_file(path, None, None)
                merged, added = _merge(stored, new)
                if added == 0:
                    return WriteResult(self._entry(path), 0)
            if all_zero_volume(merged.volume):
                raise DataError(
                    f"{refusing}: the series would have {len(merged)} bars and zero volume on "
                    "every one of them; a series without a single trade is not market data. "
                    "Fix: check the volume column, or take the candles from a source with volumes"
                )
            _write_atomic(path, merged)
            return WriteResult(self._entry(path), added)

    def lock(self, exchange: str, pair: str, timeframe: str) -> AbstractContextManager[None]:
        """The writer lock of one series (see the module documentation); hold it to change
        anything of the series."""
        name = f"{exchange}_{pair_slug(pair)}_{timeframe}.lock"
        return exclusive_lock(self.root / ".locks" / name, f"{exchange} {pair} {timeframe}")

    def entries(self) -> list[StoreEntry]:
        """Every stored series, from the Parquet footers only (no data is read)."""
        if not self.root.is_dir():
            return []
        entries = [self._entry(p) for p in self.root.glob("*/*/*.parquet")]
        return sorted(entries, key=lambda e: (e.exchange, e.pair, timeframe_ms(e.timeframe)))

    def entry(self, exchange: str, pair: str, timeframe: str) -> StoreEntry | None:
        """The stored series' entry, or None when it is not stored (no resampling here)."""
        path = self.path(exchange, pair, timeframe)
        return self._entry(path) if path.exists() else None

    def delete(self, exchange: str, pair: str, timeframe: str) -> StoreEntry:
        """Remove the stored series and return what it held; DataNotFoundError if absent."""
        path = self.path(exchange, pair, timeframe)
        if not path.exists():
            raise DataNotFoundError(
                f"nothing to delete: no {normalise_exchange(exchange)} {normalise_pair(pair)} "
                f"{timeframe} candles are stored in {self.root}"
            )
        with self.lock(normalise_exchange(exchange), normalise_pair(pair), timeframe):
            entry = self._entry(path)
            path.unlink()
        for folder in (path.parent, path.parent.parent):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return entry

    def _entry(self, path: Path, meta: pq.FileMetaData | None = None) -> StoreEntry:
        try:
            meta = read_metadata(path) if meta is None else meta
            info: dict[str, Any] = json.loads((meta.metadata or {})[META_KEY])
            return StoreEntry(
                info["exchange"],
                info["pair"],
                info["timeframe"],
                int(info["first_ts"]),
                int(info["last_ts"]),
                int(meta.num_rows),
                int(info["gaps"]),
                int(info["missing"]),
                path,
            )
        except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
            raise DataError(
                f"{path} is not a candle file of this store ({exc}); delete it and import again"
            ) from exc

    def _timestamps(self, path: Path, start_ms: int | None, end_ms: int | None) -> I64:
        """The stored open times in ``[start_ms, end_ms]``, reading only that column."""
        (ts,), _ = read_columns(path, ["timestamp"], start_ms, end_ms)
        lo = 0 if start_ms is None else int(np.searchsorted(ts, start_ms, side="left"))
        hi = len(ts) if end_ms is None else int(np.searchsorted(ts, end_ms, side="right"))
        return ts[lo : max(lo, hi)]

    def _read_file(self, path: Path, start_ms: int | None, end_ms: int | None) -> Candles:
        arrays, meta = read_columns(path, list(COLUMNS), start_ms, end_ms)
        entry = self._entry(path, meta)
        candles = Candles(entry.exchange, entry.pair, entry.timeframe, *arrays)
        return _between(candles, start_ms, end_ms)

    def describe_missing(self, exchange: str, pair: str, timeframe: str) -> str:
        """Why the series cannot be read: what is stored instead, and the import command."""
        exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
        stored = self.timeframes(exchange, pair)
        if stored:
            what = (
                f"only {', '.join(stored)} is stored for it, and none of these divides {timeframe}"
            )
        else:
            others = [f"{e.exchange} {e.pair} {e.timeframe}" for e in self.entries()]
            what = (
                f"the store holds {', '.join(others[:8])}{' ...' if len(others) > 8 else ''}"
                if others
                else "the store is empty"
            )
        return (
            f"no {exchange} {pair} {timeframe} candles in the store at {self.root}: {what}. "
            f"Import a CSV file (header timestamp,open,high,low,close,volume) with: "
            f"candlewick data import PATH --exchange {exchange} --pair {pair} "
            f"--timeframe {timeframe}"
        )


def wall_clock_ms() -> int:
    """Now, in ms UTC, plus :data:`CLOCK_SKEW_MS`: bars opening later are in the future."""
    return int(time.time() * 1000) + CLOCK_SKEW_MS


def _known(timeframe: str) -> bool:
    try:
        timeframe_ms(timeframe)
    except ValueError:
        return False
    return True


def _bucket(ts: int, timeframe: str) -> int:
    return int(bucket_start(np.array([ts], dtype=np.int64), timeframe)[0])


def _arrays(candles: Candles) -> list[Any]:
    return [
        np.asarray(candles.timestamp, dtype=np.int64),
        *(np.asarray(candles.column(name), dtype=np.float64) for name in OHLCV_COLUMNS),
    ]


def _between(candles: Candles, start_ms: int | None, end_ms: int | None) -> Candles:
    ts = candles.timestamp
    lo = 0 if start_ms is None else int(np.searchsorted(ts, start_ms, side="left"))
    hi = len(ts) if end_ms is None else int(np.searchsorted(ts, end_ms, side="right"))
    return candles if (lo, hi) == (0, len(ts)) else candles.slice(lo, max(lo, hi))


def _merge(stored: Candles, new: Candles) -> tuple[Candles, int]:
    """Union of two validated series; DataError if a shared timestamp has different values."""
    _, i_old, i_new = np.intersect1d(
        stored.timestamp, new.timestamp, assume_unique=True, return_indices=True
    )
    for name in OHLCV_COLUMNS:
        differs = np.flatnonzero(stored.column(name)[i_old] != new.column(name)[i_new])
        if len(differs):
            first = int(differs[0])
            at = int(stored.timestamp[i_old[first]])
            raise DataError(
                f"the new {new.exchange} {new.pair} {new.timeframe} candles disagree with the "
                f"stored ones on {len(differs)} of {len(i_old)} shared bars, first at {at} "
                f"({format_ts(at)}): {name} stored {float(stored.column(name)[i_old[first]])!r}, "
                f"new {float(new.column(name)[i_new[first]])!r}. Nothing was written; if the "
                f"new data is right, run `candlewick data delete {new.exchange} {new.pair} "
                f"{new.timeframe}` and import again"
            )
    fresh = np.ones(len(new), dtype=np.bool_)
    fresh[i_new] = False
    added = int(np.count_nonzero(fresh))
    if added == 0:
        return stored, 0
    ts = np.concatenate((stored.timestamp, new.timestamp[fresh]))
    order = np.argsort(ts, kind="stable")
    columns = [
        np.concatenate((stored.column(name), new.column(name)[fresh]))[order]
        for name in OHLCV_COLUMNS
    ]
    return Candles(new.exchange, new.pair, new.timeframe, ts[order], *columns), added


def _write_atomic(path: Path, candles: Candles) -> None:
    """Write the series to a temporary file beside ``path``, flush it to disk, then rename."""
    gaps, missing = count_gaps(candles.timestamp, candles.timeframe)
    info = {
        "format": 1,
        "exchange": candles.exchange,
        "pair": candles.pair,
        "timeframe": candles.timeframe,
        "first_ts": int(candles.timestamp[0]),
        "last_ts": int(candles.timestamp[-1]),
        "gaps": gaps,
        "missing": missing,
    }
    columns = [candles.timestamp, *(candles.column(name) for name in OHLCV_COLUMNS)]
    write_parquet_atomic(path, columns, {META_KEY: json.dumps(info).encode()})
