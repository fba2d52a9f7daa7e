"""The strategy pipeline of one pair, shared by every mode: candles → indicators → signals.

Turns a :class:`~candlewick.config.models.TradingConfig` into the core's plain specs and runs
the pure functions. Backtest, lookahead check and (later) live bots call this same code, so
a strategy behaves the same wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from candlewick.backtest.engine import BacktestSettings, PairData
from candlewick.config.models import TradingConfig
from candlewick.core.fills import Fees, Precision, Slippage
from candlewick.core.resample import resample
from candlewick.core.types import Candles
from candlewick.risk.limits import PortfolioLimits
from candlewick.risk.rules import ExitRules

if TYPE_CHECKING:
    import pandas as pd

    from candlewick.indicators.calculator import IndicatorSpec
    from candlewick.signals.generator import Combine, FilterSpec, SetupSpec, Signals


@dataclass(frozen=True, slots=True)
class StrategySpecs:
    """The config's strategy part as the core's specs."""

    indicators: tuple[IndicatorSpec, ...]
    setups: tuple[SetupSpec, ...]
    filters: tuple[FilterSpec, ...]
    combine: Combine
    exit_combine: Combine
    vote_threshold: float


def strategy_specs(config: TradingConfig) -> StrategySpecs:
    """Translate the config into indicator, setup and filter specs."""
    from candlewick.indicators.calculator import IndicatorSpec
    from candlewick.signals.generator import FilterSpec, SetupSpec

    return StrategySpecs(
        indicators=tuple(
            IndicatorSpec(
                id=ind.id,
                name=ind.name,
                params=dict(ind.params),
                timeframe=None if ind.timeframe == config.timeframe else ind.timeframe,
                source=ind.source,
            )
            for ind in config.indicators
        ),
        setups=tuple(SetupSpec(s.name, dict(s.params), s.weight) for s in config.setups),
        filters=tuple(FilterSpec(f.name, dict(f.params)) for f in config.filters),
        combine=config.combine,
        exit_combine=config.exit_combine,
        vote_threshold=config.vote_threshold,
    )


def informative_candles(config: TradingConfig, base: Candles) -> dict[str, Candles]:
    """The informative timeframes, resampled from the base candles (closed candles only)."""
    return {tf: resample(base, tf) for tf in config.informative_timeframes}


def build_pair_frame(config: TradingConfig, specs: StrategySpecs, base: Candles) -> pd.DataFrame:
    """The frame setups read: OHLCV plus the declared indicators, informative ones merged."""
    from candlewick.indicators.calculator import build_frame

    frame = build_frame(base, specs.indicators, informative_candles(config, base))
    frame.attrs["timeframe"] = base.timeframe  # lets filters tell a bar's close from its open
    return frame


def pair_signals(specs: StrategySpecs, frame: pd.DataFrame) -> Signals:
    """Setups and filters over one pair's frame."""
    from candlewick.signals.generator import generate_signals

    return generate_signals(
        frame,
        specs.setups,
        specs.filters,
        combine=specs.combine,
        vote_threshold=specs.vote_threshold,
        exit_combine=specs.exit_combine,
    )


def pair_data(
    config: TradingConfig, candles: Candles, frame: pd.DataFrame, signals: Signals
) -> PairData:
    """What the engine needs for one pair."""
    atr = None
    if config.risk.atr_indicator is not None:
        # A copy, not a view: the engine keeps it, and the frame is freed before the engine runs.
        atr = frame[config.risk.atr_indicator].to_numpy(dtype="float64", copy=True)
    market = config.markets.get(candles.pair)
    precision = (
        Precision(market.price_tick, market.amount_step, market.min_notional)
        if market is not None
        else Precision()
    )
    return PairData(candles, signals.entry, signals.exit, atr=atr, precision=precision)


def backtest_settings(config: TradingConfig) -> BacktestSettings:
    """Account, fees, slippage, exits, limits and sizing of the config, as engine settings."""
    risk = config.risk
    return BacktestSettings(
        initial_cash=config.backtest.initial_cash,
        quote=config.quote,
        fees=Fees(taker=config.fees.taker, maker=config.fees.maker),
        slippage=Slippage(
            bps=config.slippage.bps, impact=config.slippage.impact, max_bps=config.slippage.max_bps
        ),
        exit_rules=ExitRules(
            stop_loss_pct=risk.stop_loss_pct,
            stop_loss_atr=risk.stop_loss_atr,
            take_profit_pct=risk.take_profit_pct,
            take_profit_atr=risk.take_profit_atr,
            take_profit_rr=risk.take_profit_rr,
            trailing_stop_pct=risk.trailing_stop_pct,
            time_stop_bars=risk.time_stop_bars,
        ),
        limits=PortfolioLimits(
            max_open_positions=risk.max_open_positions,
            max_pair_exposure=risk.max_pair_exposure,
            max_total_exposure=risk.max_total_exposure,
            daily_loss_limit=risk.daily_loss_limit,
            max_drawdown=risk.max_drawdown,
            cooldown_bars=risk.cooldown_bars,
        ),
        sizing=config.sizing.method,
        sizing_params=dict(config.sizing.params),
    )


def config_snapshot(config: TradingConfig) -> dict[str, Any]:
    """The config as JSON-able data, stored with each run."""
    return config.model_dump(mode="json")
