"""Every example config loads and backtests on real candles (the last few thousand bars)."""

from __future__ import annotations

from pathlib import Path

import pytest

from candlewick.config.loader import load_trading_config
from candlewick.data.sources import ensure_candles
from candlewick.data.store import CandleStore
from candlewick.modes.backtest import lookahead_reports, run_backtest_job
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def test_the_reference_example_is_the_packaged_demo_config() -> None:
    packaged = ROOT / "src" / "candlewick" / "defaults" / "sma_cross.yaml"
    assert (ROOT / "examples" / "sma_cross.yaml").read_bytes() == packaged.read_bytes()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_backtests_without_lookahead(path: Path, tmp_path: Path) -> None:
    config = load_trading_config(path)
    store = CandleStore(tmp_path / "candles")
    candles = {}
    for pair in config.pairs:
        series, _ = ensure_candles(store, config.exchange, pair, config.timeframe, data_dir=SHARED)
        candles[pair] = series.slice(max(0, len(series) - 3000), len(series))
    result, _ = run_backtest_job(config, candles)
    assert result.final_cash > 0
    assert result.equity.shape[0] >= 3000
    first = dict(list(candles.items())[:1])
    reports = lookahead_reports(config, first)
    assert all(report.ok for report in reports.values())
