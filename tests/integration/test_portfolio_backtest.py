"""A multi-pair portfolio on real 15m candles: shared cash, limits and breakers hold."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from candlewick.config.loader import load_trading_config
from candlewick.core.metrics import compute_metrics
from candlewick.core.types import Candles
from candlewick.data.csv_import import read_candle_csv
from candlewick.modes.backtest import run_backtest_job
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "portfolio_15m.yaml"


def load(pair: str) -> Candles:
    assert SHARED is not None
    path = SHARED / "candles" / f"binance_{pair.replace('/', '-')}_15m.csv.gz"
    return read_candle_csv(path, "binance", pair, "15m").candles


def test_portfolio_limits_hold_on_real_candles() -> None:
    config = load_trading_config(CONFIG)
    candles = {pair: load(pair) for pair in config.pairs}
    result, _ = run_backtest_job(config, candles)
    trades = result.trades
    assert len(trades) > 100
    assert result.final_cash >= 0
    assert (result.equity > 0).all()
    assert result.equity[-1] == pytest.approx(float(result.final_cash), rel=1e-9)
    # Cash and the sum of trade P&L agree to Decimal's 28 significant digits.
    booked = config.backtest.initial_cash + sum((t.pnl for t in trades), Decimal(0))
    assert abs(result.final_cash - booked) < Decimal("1e-20")

    # No pair ever holds two positions; cooldown of 4 bars after every exit.
    bar_ms = 15 * 60_000
    for pair in config.pairs:
        own = sorted((t for t in trades if t.pair == pair), key=lambda t: t.entry_ts)
        for before, after in itertools.pairwise(own):
            assert after.signal_ts >= before.exit_ts + 4 * bar_ms

    # At every entry, fewer than max_open_positions others are held past it.
    entries = np.array([t.entry_ts for t in trades])
    exits = np.array([t.exit_ts for t in trades])
    for t in trades:
        held = int(((entries < t.entry_ts) & (exits > t.entry_ts)).sum())
        assert held < 4
    assert any(r.reason == "max open positions (4)" for r in result.rejections)

    # The pair exposure cap: no entry spends more than 25 % of the equity it was sized on
    # (the equity at the previous close; exits at the entry's open may move it a little).
    for t in trades:
        prev_bar = int(np.searchsorted(result.timestamp, t.entry_ts)) - 1
        assert float(t.cost) <= 0.25 * float(result.equity[prev_bar]) * 1.05

    metrics = compute_metrics(result)
    assert metrics["trade_count"] == len(trades)
    assert 0.0 <= float(metrics["max_drawdown"] or 0.0) <= 1.0
