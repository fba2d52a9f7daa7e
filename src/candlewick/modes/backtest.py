"""The backtest mode: load candles, run the strategy pipeline per pair, run the portfolio engine.

This is the shell around the pure core: it reads the candle store, times the stages and
reports progress through a callback, so the CLI (Rich) and tests (nothing) can both use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from candlewick.backtest.engine import run_backtest
from candlewick.config.models import TradingConfig
from candlewick.core.timeframes import day_ms
from candlewick.core.types import BacktestResult, Candles, Rejection
from candlewick.errors import DataError
from candlewick.modes.strategy import (
    StrategySpecs,
    backtest_settings,
    build_pair_frame,
    pair_data,
    pair_signals,
    strategy_specs,
)
from candlewick.plugins import fresh_plugins, plugin_modules

if TYPE_CHECKING:
    from candlewick.backtest.engine import PairData
    from candlewick.data.coverage import Coverage
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


@dataclass(frozen=True, slots=True)
class BacktestOutcome:
    """A finished backtest: the result, the candles it ran on, and where they came from."""

    result: BacktestResult
    candles: dict[str, Candles]
    data_notes: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadedCandles:
    """What a run reads: each pair's base candles, their coverage, and what to tell the user.

    ``notes`` say where the bars came from and where they have gaps; ``warning`` is set when
    the pairs cover different windows (a portfolio then compares unlike periods).
    """

    candles: dict[str, Candles]
    coverages: tuple[Coverage, ...]
    notes: tuple[str, ...]
    warning: str | None


def load_candles(config: TradingConfig, store: CandleStore) -> LoadedCandles:
    """Each pair's base candles within the config's ``backtest.start`` to ``end`` (excluded),
    from the stored series covering that window best."""
    from candlewick.core.validation import count_gaps
    from candlewick.data.coverage import coverage_warning
    from candlewick.data.sources import load_series

    start, end = config.backtest.start, config.backtest.end
    start_ms, end_ms = day_ms(start), day_ms(end)
    candles, coverages, notes = {}, [], []
    for pair in config.pairs:
        loaded = load_series(store, config.exchange, pair, config.timeframe, start_ms, end_ms)
        series = loaded.candles
        if len(series) < 2:
            raise DataError(
                f"{pair} {config.timeframe}: fewer than 2 bars between {start or 'the start'} and "
                f"{end or 'the end'}; check backtest.start/end (or --timerange) against "
                "`candlewick data list`"
            )
        candles[pair] = series
        coverages.append(loaded.coverage)
        notes.append(loaded.note)
        runs, missing = count_gaps(series.timestamp, config.timeframe)
        if runs:
            notes.append(
                f"{pair} {config.timeframe}: {runs} gap(s), {missing} missing bar(s) in the "
                "backtest window; indicators, time stops and cooldowns count bars across them"
            )
    return LoadedCandles(candles, tuple(coverages), tuple(notes), coverage_warning(coverages))


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
        data, rejected = _pair_input(config, specs, pair, series)
        pairs.append(data)
        filtered += rejected
    timings["signals"] = time.perf_counter() - clock
    progress("simulating", len(candles), len(candles))
    clock = time.perf_counter()
    result = run_backtest(pairs, backtest_settings(config))
    timings["engine"] = time.perf_counter() - clock
    if filtered:
        merged = sorted([*filtered, *result.rejections], key=lambda r: (r.signal_ts, r.pair))
        result = replace(result, rejections=tuple(merged))
    return result, timings


def _pair_input(
    config: TradingConfig, specs: StrategySpecs, pair: str, series: Candles
) -> tuple[PairData, list[Rejection]]:
    """One pair's engine input and its filter rejections. The pair's frame and signals are
    freed on return (the engine needs only the candles and the entry/exit flags): they are
    most of a pair's memory, and none of them is alive while the engine runs."""
    frame = build_pair_frame(config, specs, series)
    signals = pair_signals(specs, frame)
    return pair_data(config, series, frame, signals), filter_rejections(pair, series, signals)


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

    Every run (full history, each cut) starts from fresh plugin state
    (:func:`candlewick.plugins.fresh_plugins`); ``seed`` draws the random cuts (see
    :func:`candlewick.signals.lookahead.cut_points`).
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


