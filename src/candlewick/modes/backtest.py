"""The backtest mode: load candles, run the strategy pipeline per pair, run the portfolio engine.

This is the shell around the pure core: it reads the candle store, times the stages and
reports progress through a callback, so the CLI (Rich) and tests (nothing) can both use it.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from candlewick.backtest.engine import run_backtest
from candlewick.config.models import TradingConfig
from candlewick.core.types import BacktestResult, Candles, Rejection
from candlewick.errors import DataError, StrategyError
from candlewick.modes.strategy import (
    backtest_settings,
    build_pair_frame,
    pair_data,
    pair_signals,
    strategy_specs,
)

if TYPE_CHECKING:
    from candlewick.core.registry import Registry
    from candlewick.data.store import CandleStore
    from candlewick.signals.generator import Signals
    from candlewick.signals.lookahead import LookaheadReport

LOOKAHEAD_FAILED = "lookahead_failed"
"""The stored status of a run that failed the lookahead check: the value of
``candlewick.storage.models.RunStatus.LOOKAHEAD_FAILED``, not imported so that a backtest
that stores nothing does not load SQLAlchemy."""

#: progress(stage, done, total): stage is a short human label.
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def day_ms(day: str | date | None) -> int | None:
    """Milliseconds of the start of a UTC day, given as ``YYYY-MM-DD`` or a date."""
    if day is None:
        return None
    if isinstance(day, str):
        try:
            day = datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise DataError(f"bad date {day!r}: use YYYY-MM-DD") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class BacktestOutcome:
    """A finished backtest: the result, the candles it ran on, and where they came from."""

    result: BacktestResult
    candles: dict[str, Candles]
    data_notes: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)


def load_candles(
    config: TradingConfig,
    store: CandleStore,
    start: str | None = None,
    end: str | None = None,
) -> tuple[dict[str, Candles], list[str]]:
    """Each pair's base candles within [start, end) and a note on where they came from."""
    from candlewick.core.validation import count_gaps
    from candlewick.data.sources import ensure_candles

    start_ms = day_ms(start or config.backtest.start)
    end_ms = day_ms(end or config.backtest.end)
    candles, notes = {}, []
    for pair in config.pairs:
        series, note = ensure_candles(store, config.exchange, pair, config.timeframe)
        lo = 0 if start_ms is None else int(series.timestamp.searchsorted(start_ms))
        hi = len(series) if end_ms is None else int(series.timestamp.searchsorted(end_ms))
        series = series.slice(lo, hi)
        if len(series) < 2:
            raise DataError(
                f"{pair} {config.timeframe}: fewer than 2 bars between {start or 'the start'} and "
                f"{end or 'the end'}; check backtest.start/end against `candlewick data list`"
            )
        candles[pair] = series
        notes.append(note)
        runs, missing = count_gaps(series.timestamp, config.timeframe)
        if runs:
            notes.append(
                f"{pair} {config.timeframe}: {runs} gap(s), {missing} missing bar(s) in the "
                "backtest window; indicators, time stops and cooldowns count bars across them"
            )
    return candles, notes


def run_backtest_job(
    config: TradingConfig,
    candles: dict[str, Candles],
    progress: Progress = _no_progress,
) -> tuple[BacktestResult, dict[str, float]]:
    """Indicators and signals per pair, then the portfolio engine; returns result and timings."""
    specs = strategy_specs(config)
    timings: dict[str, float] = {}
    pairs = []
    clock = time.perf_counter()
    filtered: list[Rejection] = []
    for done, (pair, series) in enumerate(candles.items()):
        progress(f"signals {pair}", done, len(candles))
        frame = build_pair_frame(config, specs, series)
        signals = pair_signals(specs, frame)
        pairs.append(pair_data(config, series, frame, signals))
        filtered += filter_rejections(pair, series, signals)
    timings["signals"] = time.perf_counter() - clock
    progress("simulating", len(candles), len(candles))
    clock = time.perf_counter()
    result = run_backtest(pairs, backtest_settings(config))
    timings["engine"] = time.perf_counter() - clock
    if filtered:
        merged = sorted([*filtered, *result.rejections], key=lambda r: (r.signal_ts, r.pair))
        result = replace(result, rejections=tuple(merged))
    return result, timings


def filter_rejections(pair: str, candles: Candles, signals: Signals) -> list[Rejection]:
    """The decision log's rejected entries: which filter refused each raw entry, and why."""
    refused = np.flatnonzero(signals.raw_entry & ~signals.entry)
    return [
        Rejection(
            pair,
            int(candles.timestamp[i]),
            f"{signals.rejected_by[i]}: {signals.reason[i]}"
            if signals.rejected_by[i] != "exit"
            else "exit signal on the same bar",
        )
        for i in refused.tolist()
    ]


def lookahead_reports(
    config: TradingConfig,
    candles: dict[str, Candles],
    progress: Progress = _no_progress,
    *,
    seed: int = 0,
) -> dict[str, LookaheadReport]:
    """Recompute the whole pipeline on truncated histories and report changed signals.

    Every run (full history, each cut) starts from fresh plugin state (:func:`fresh_plugins`);
    ``seed`` draws the random cuts (see :func:`candlewick.signals.lookahead.cut_points`).
    """
    from candlewick.signals.lookahead import check_lookahead

    specs = strategy_specs(config)
    modules = plugin_modules(config)
    reports = {}
    for done, (pair, series) in enumerate(candles.items()):
        progress(f"lookahead {pair}", done, len(candles))

        def upto(end: int, series: Candles = series) -> Signals:
            with fresh_plugins(modules):
                return pair_signals(specs, build_pair_frame(config, specs, series.slice(0, end)))

        reports[pair] = check_lookahead(upto, len(series), timestamps=series.timestamp, seed=seed)
    return reports


def lookahead_checks(reports: Mapping[str, LookaheadReport], seed: int) -> dict[str, Any]:
    """The lookahead check of a run as JSON-able data, stored with it and shown in reports."""
    return {
        "ok": all(report.ok for report in reports.values()),
        "seed": seed,
        "pairs": {pair: report.to_dict() for pair, report in reports.items()},
    }


def _registries() -> tuple[Registry[Any], ...]:
    """The registries a plugin can add to that the signal pipeline reads."""
    from candlewick.indicators.library import INDICATORS
    from candlewick.signals.filters import FILTERS
    from candlewick.signals.setups import SETUPS

    return (INDICATORS, SETUPS, FILTERS)


def plugin_modules(config: TradingConfig) -> tuple[str, ...]:
    """The modules outside Candlewick that define an indicator, setup or filter ``config`` uses
    (its plugin files, or any module that registered one), each with its source file."""
    indicators, setups, filters = _registries()
    used = [
        *(indicators.get(i.name) for i in config.indicators if i.name in indicators),
        *(setups.get(s.name) for s in config.setups if s.name in setups),
        *(filters.get(f.name) for f in config.filters if f.name in filters),
    ]
    names = dict.fromkeys(fn.__module__ for fn in used)
    return tuple(
        name
        for name in names
        if name.split(".")[0] != "candlewick"
        and getattr(sys.modules.get(name), "__file__", None) is not None
    )


@contextmanager
def fresh_plugins(modules: Sequence[str]) -> Iterator[None]:
    """Run the block with freshly executed copies of the plugin ``modules``.

    Each module's file is executed again in a new module object (so its globals, closures,
    caches and function attributes start as at import) that replaces it in ``sys.modules`` and
    whose decorators register its functions in place of the old ones. Afterwards the original
    modules and registrations are put back: the backtest's own plugin state is never touched.
    State kept outside the module (another module, a file) is not reset. Not thread-safe: the
    registries are process-wide.
    """
    if not modules:
        yield
        return
    registries = _registries()
    saved = [registry.snapshot() for registry in registries]
    originals = {name: sys.modules[name] for name in modules}
    try:
        for registry in registries:
            for name in originals:
                registry.unregister_module(name)
        for name, original in originals.items():
            _execute_again(name, Path(str(original.__file__)))
        yield
    finally:
        for registry, entries in zip(registries, saved, strict=True):
            registry.restore(entries)
        sys.modules.update(originals)


def _execute_again(name: str, path: Path) -> None:
    """Execute the module file ``path`` as a new module ``name`` (put in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"plugin {path}: cannot be imported again for the lookahead check")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise StrategyError(
            f"plugin {path} failed when imported again for the lookahead check (each cut "
            f"starts from a fresh copy): {type(exc).__name__}: {exc}"
        ) from exc
