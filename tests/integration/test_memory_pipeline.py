"""The backtest's memory between stages: no pair's frame or signals live while the engine runs.

A pair's DataFrame and Signals are most of its memory during the run; the engine needs only
the candles, the entry/exit flags and (for ATR exits) one column, kept as its own array.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from candlewick.config.loader import load_trading_config
from candlewick.config.pipeline_check import sample_candles
from candlewick.modes import backtest
from candlewick.modes.strategy import build_pair_frame, pair_data, pair_signals, strategy_specs
from candlewick.signals.generator import Signals

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kind))


@pytest.mark.parametrize("name", ["sma_cross.yaml", "mtf_trend.yaml"])
def test_no_frame_or_signals_alive_while_the_engine_runs(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_trading_config(EXAMPLES / name)
    candles = {pair: sample_candles(config, pair) for pair in config.pairs}
    engine, seen = backtest.run_backtest, []  # type: ignore[attr-defined]

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append((_alive(pd.DataFrame), _alive(Signals)))
        return engine(*args, **kwargs)

    monkeypatch.setattr(backtest, "run_backtest", watched)
    before = (_alive(pd.DataFrame), _alive(Signals))
    result, _ = backtest.run_backtest_job(config, candles)
    assert seen == [before]
    assert result.bars == sum(len(c) for c in candles.values())


def test_the_atr_the_engine_keeps_is_not_a_view_of_the_frame() -> None:
    config = load_trading_config(EXAMPLES / "mtf_trend.yaml")
    specs = strategy_specs(config)
    series = sample_candles(config)
    frame = build_pair_frame(config, specs, series)
    data = pair_data(config, series, frame, pair_signals(specs, frame))
    assert data.atr is not None and config.risk.atr_indicator is not None
    column = frame[config.risk.atr_indicator].to_numpy()
    np.testing.assert_array_equal(data.atr, column)
    assert not np.shares_memory(data.atr, column)
