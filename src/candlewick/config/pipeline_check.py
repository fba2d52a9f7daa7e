"""Checking a config by running the backtest's own pipeline on sample candles, without data.

Some mistakes show only when the strategy is built: a setup or filter param naming a column
no indicator gives, an indicator id that clashes with a candle column, a choice a setup does
not know, a plugin that fails. ``candlewick backtest`` would find them after loading the
candles; :func:`check_pipeline` finds them at load time, for ``config validate`` too, by
running the same functions (:mod:`candlewick.modes.strategy`, then the engine) on a short
synthetic series. Each setup and filter also runs on its own first, so that a problem names
its place in the file (``setups[1]``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from candlewick.config.models import TradingConfig
from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import Candles
from candlewick.errors import CandlewickError, ConfigError

if TYPE_CHECKING:
    from candlewick.backtest.engine import PairData

T = TypeVar("T")

#: Fewest sample bars; more when an informative timeframe needs them (three of its candles).
SAMPLE_BARS = 300
#: Bars the engine runs on per pair (the end of the sample).
ENGINE_BARS = 300
_MONDAY_2024 = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday: weekly candles align


def sample_candles(config: TradingConfig, pair: str | None = None) -> Candles:
    """A deterministic random walk on the base timeframe, long enough for three candles of
    the longest informative timeframe."""
    step = timeframe_ms(config.timeframe)
    longest = max((timeframe_ms(tf) for tf in config.informative_timeframes), default=step)
    n = max(SAMPLE_BARS, 3 * longest // step + 2)
    rng = np.random.default_rng(0)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = 1.0 + np.abs(rng.normal(0.0, 0.003, n))
    return Candles(
        exchange=config.exchange,
        pair=pair or config.pairs[0],
        timeframe=config.timeframe,
        timestamp=_MONDAY_2024 + step * np.arange(n, dtype=np.int64),
        open=open_,
        high=np.maximum(open_, close) * wick,
        low=np.minimum(open_, close) / wick,
        close=close,
        volume=rng.uniform(10.0, 1000.0, n),
    )


def check_pipeline(config: TradingConfig, source: str) -> None:
    """Build and run the strategy as the backtest does, on sample candles; ConfigError
    naming the file and the field at the first problem.

    Plugins run as freshly executed copies (:func:`candlewick.plugins.fresh_plugins`):
    the state a plugin keeps between calls is the same after the check as before it.
    """
    from candlewick.plugins import fresh_plugins, plugin_modules

    try:
        with fresh_plugins(plugin_modules(config)):
            _run_pipeline(config, source)
    except ConfigError:
        raise
    except CandlewickError as exc:
        raise ConfigError(f"{source}: plugins: {exc}") from None


def _run_pipeline(config: TradingConfig, source: str) -> None:
    from candlewick.backtest.engine import run_backtest
    from candlewick.modes.strategy import (
        backtest_settings,
        build_pair_frame,
        pair_data,
        pair_signals,
        strategy_specs,
    )
    from candlewick.signals.generator import generate_signals

    specs = strategy_specs(config)
    candles = sample_candles(config)
    frame = _step(source, "indicators", lambda: build_pair_frame(config, specs, candles))
    for i, setup in enumerate(specs.setups):
        _step(source, f"setups[{i}]", partial(generate_signals, frame, [setup]), setup.name)
    for i, filt in enumerate(specs.filters):
        _step(
            source,
            f"filters[{i}]",
            partial(generate_signals, frame, specs.setups, [filt]),
            filt.name,
            kind="filter",
        )
    signals = _step(source, "setups", lambda: pair_signals(specs, frame))
    lo = max(0, len(candles) - ENGINE_BARS)
    pairs = [
        _tail(pair_data(config, replace(candles, pair=pair), frame, signals), lo)
        for pair in config.pairs
    ]
    _step(source, "risk and sizing", lambda: run_backtest(pairs, backtest_settings(config)))


def _tail(data: PairData, lo: int) -> PairData:
    return replace(
        data,
        candles=data.candles.slice(lo, len(data.candles)),
        entry=data.entry[lo:],
        exit=data.exit[lo:],
        atr=None if data.atr is None else data.atr[lo:],
    )


def _step(source: str, field: str, run: Callable[[], T], name: str = "", kind: str = "setup") -> T:
    """``run()``; its error as a ConfigError naming ``field``. A setup or filter (``name``)
    that fails otherwise than with a Candlewick error is named with the exception."""
    try:
        return run()
    except CandlewickError as exc:
        raise ConfigError(f"{source}: {field}: {exc}") from None
    except Exception as exc:
        if not name:
            raise
        raise ConfigError(
            f"{source}: {field}: {kind} {name!r} failed on sample candles: "
            f"{type(exc).__name__}: {exc}. Check its params (or fix the {kind}, if it is yours)"
        ) from None
