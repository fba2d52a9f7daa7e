"""Every example config backtests on the real candles to the figures pinned below.

Each example runs as ``candlewick backtest --config examples/NAME.yaml`` runs it on a fresh
home: the whole series the shared data holds, imported into an empty store. Its trade count,
final equity (the exact Decimal), maximum drawdown (from the equity curve, computed here),
exit reasons and first and last trades are pinned; sma_cross's first trades are also checked
against the independent implementation of tests/integration/test_reference_strategy.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from candlewick.config.loader import load_trading_config
from candlewick.core.metrics import iso_utc
from candlewick.core.types import BacktestResult, Candles, Trade
from candlewick.data.sources import ensure_candles
from candlewick.data.store import CandleStore
from candlewick.modes.backtest import lookahead_reports, run_backtest_job
from candlewick.paths import shared_data_dir
from tests.integration.test_reference_strategy import independent_sma_cross

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


class TradeFacts(NamedTuple):
    pair: str
    entry: str  # entry time, UTC
    entry_price: str
    exit: str
    exit_price: str
    reason: str


class Figures(NamedTuple):
    window: tuple[str, str, int]  # first and last bar of every pair, bars per pair
    trades: int
    final_equity: str
    max_drawdown: float  # largest fall of the equity curve from its running peak, a fraction
    reasons: dict[str, int]
    first: TradeFacts
    last: TradeFacts
    halted_at: str | None  # when the max-drawdown breaker tripped


# ---- THE PINNED FIGURES: update them here when a deliberate change moves them -------------------
PINNED = {
    "sma_cross": Figures(
        window=("2024-03-01T00:00:00Z", "2025-08-18T18:20:00Z", 154_301),
        trades=3114,
        final_equity="20.66599850339258832892795694",
        max_drawdown=0.9979727566794496,
        reasons={"signal": 3113, "end_of_data": 1},
        first=TradeFacts("BTC/USDT", "2024-03-01T04:15:00Z", "61177.56",
                         "2024-03-01T08:05:00Z", "61435.63", "signal"),
        last=TradeFacts("BTC/USDT", "2025-08-18T15:10:00Z", "115550.0",
                        "2025-08-18T18:20:00Z", "116381.27", "end_of_data"),
        halted_at=None,
    ),
    "mtf_trend": Figures(
        window=("2024-03-01T00:00:00Z", "2025-08-18T18:20:00Z", 154_301),
        trades=98,
        final_equity="5047.546708361447726895371039",
        max_drawdown=0.5018885926903968,
        reasons={"signal": 12, "stop_loss": 61, "trailing_stop": 1, "take_profit": 24},
        first=TradeFacts("BTC/USDT", "2024-03-05T08:15:00Z", "66514.513101461967295065510",
                         "2024-03-05T13:05:00Z", "67327.907133637222305646455", "signal"),
        last=TradeFacts("BTC/USDT", "2024-04-24T16:35:00Z", "64738.882123740184815737108",
                        "2024-04-24T17:00:00Z", "64575.842078202442515937083", "signal"),
        halted_at="2024-04-24T16:45:00Z",
    ),
    "portfolio_15m": Figures(
        window=("2023-04-01T00:00:00Z", "2024-04-09T23:30:00Z", 35_999),
        trades=3420,
        final_equity="2519.685852197406359696981707",
        max_drawdown=0.7505693826403083,
        reasons={"signal": 3331, "stop_loss": 44, "trailing_stop": 45},
        first=TradeFacts("XRP/USDT", "2023-04-03T12:00:00Z", "0.51515151",
                         "2023-04-03T12:30:00Z", "0.51334866", "signal"),
        last=TradeFacts("XRP/USDT", "2024-04-09T18:30:00Z", "0.6220622",
                        "2024-04-09T21:45:00Z", "0.6219378", "signal"),
        halted_at=None,
    ),
}  # fmt: skip
# -------------------------------------------------------------------------------------------------

Run = tuple[dict[str, Candles], BacktestResult]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """Backtest an example on the full series, each in its own fresh store (once per module)."""
    done: dict[str, Run] = {}

    def run(name: str) -> Run:
        if name not in done:
            config = load_trading_config(ROOT / "examples" / f"{name}.yaml")
            store = CandleStore(tmp_path_factory.mktemp(name) / "candles")
            candles = {
                pair: ensure_candles(
                    store, config.exchange, pair, config.timeframe, data_dir=SHARED
                )[0]
                for pair in config.pairs
            }
            done[name] = candles, run_backtest_job(config, candles)[0]
        return done[name]

    return run


def facts(trade: Trade) -> TradeFacts:
    entry, exit_ = iso_utc(trade.entry_ts), iso_utc(trade.exit_ts)
    prices = str(trade.entry_price), str(trade.exit_price)
    return TradeFacts(trade.pair, entry, prices[0], exit_, prices[1], trade.exit_reason.value)


def max_drawdown(equity: np.ndarray) -> float:
    return float(np.max(1.0 - equity / np.maximum.accumulate(equity)))


def test_every_example_has_pinned_figures() -> None:
    assert {p.stem for p in EXAMPLES} == set(PINNED)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_example_figures(name: str, example_run: Callable[[str], Run]) -> None:
    candles, result = example_run(name)
    pinned = PINNED[name]
    for series in candles.values():
        assert (iso_utc(int(series.timestamp[0])), iso_utc(int(series.timestamp[-1])),
                len(series)) == pinned.window  # fmt: skip
    assert len(result.trades) == pinned.trades
    assert str(result.final_equity) == pinned.final_equity
    assert result.equity[-1] == pytest.approx(float(result.final_equity), rel=1e-12)
    assert max_drawdown(result.equity) == pytest.approx(pinned.max_drawdown, rel=1e-9)
    assert dict(Counter(t.exit_reason.value for t in result.trades)) == pinned.reasons
    assert (facts(result.trades[0]), facts(result.trades[-1])) == (pinned.first, pinned.last)
    halted = None if result.halted_at is None else iso_utc(result.halted_at)
    assert halted == pinned.halted_at


def test_sma_cross_first_trades_match_the_independent_implementation(
    example_run: Callable[[str], Run],
) -> None:
    # The independent loop on the CSV cut right after the k-th exit has made exactly k
    # trades and holds their last proceeds (all in): the engine's first trades, bar for bar.
    assert SHARED is not None
    candles, result = example_run("sma_cross")
    path = SHARED / "candles" / "binance_BTC-USDT_5m.csv.gz"
    frame, text = pd.read_csv(path, nrows=20_000), pd.read_csv(path, nrows=20_000, dtype=str)
    timestamps = candles["BTC/USDT"].timestamp
    for k, trade in enumerate(result.trades[:5], start=1):
        cut = int(np.searchsorted(timestamps, trade.exit_ts)) + 1
        assert cut < len(frame)
        assert independent_sma_cross(frame[:cut], text[:cut]) == (k, trade.proceeds)


def test_the_reference_example_is_the_packaged_demo_config() -> None:
    packaged = ROOT / "src" / "candlewick" / "defaults" / "sma_cross.yaml"
    assert (ROOT / "examples" / "sma_cross.yaml").read_bytes() == packaged.read_bytes()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_signals_do_not_read_the_future(path: Path, tmp_path: Path) -> None:
    config = load_trading_config(path)
    store = CandleStore(tmp_path / "candles")
    pair = config.pairs[0]
    series, _ = ensure_candles(store, config.exchange, pair, config.timeframe, data_dir=SHARED)
    last = {pair: series.slice(max(0, len(series) - 3000), len(series))}
    reports = lookahead_reports(config, last)
    assert all(report.ok for report in reports.values())
