"""Segment files of the shared data (``..._1m_2026-03.csv.gz``) are read when only they hold
the requested window: a backtest of March 2026 finds BTC's candles there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candlewick.data.sources import load_series, shared_candle_file
from candlewick.data.store import CandleStore
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
MAR_25 = 1_774_396_800_000  # 2026-03-25 00:00 UTC
DAY = 86_400_000


def test_a_window_only_a_segment_file_holds_is_read_from_it(tmp_path: Path) -> None:
    assert SHARED is not None
    segment = SHARED / "candles" / "binance_BTC-USDT_1m_2026-03.csv.gz"
    assert shared_candle_file(SHARED, "binance", "BTC/USDT", "5m", MAR_25, MAR_25 + 2 * DAY) == (
        segment,
        "1m",
    )
    # an open window still takes the pair's main (longest) file
    main = shared_candle_file(SHARED, "binance", "BTC/USDT", "1m")
    assert main is not None and main[0].name == "binance_BTC-USDT_1m.csv.gz"

    loaded = load_series(CandleStore(tmp_path / "candles"), "binance", "BTC/USDT", "5m",
                         MAR_25, MAR_25 + 2 * DAY, data_dir=SHARED)  # fmt: skip
    assert (loaded.coverage.bars, loaded.coverage.source_timeframe) == (576, "1m")
    assert loaded.coverage.first_ts == MAR_25
    # the 5m closes are the segment's 1m closes at the end of each 5 minutes (independent read)
    raw = pd.read_csv(segment)
    closes = raw.set_index("timestamp")["close"]
    want = [closes[t + 4 * 60_000] for t in loaded.candles.timestamp[:10]]
    assert np.array_equal(loaded.candles.close[:10], np.array(want))
