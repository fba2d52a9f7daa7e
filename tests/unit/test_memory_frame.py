"""The strategy frame's column labels: plain str in an object Index, not pandas 3's pyarrow one.

``build_frame`` labelled the columns with a pandas 3 string Index, backed by pyarrow, whose
pandas bridge (``pyarrow.pandas_compat``) that imported: about 7 MiB for nothing. The frame
still holds its own copy of the candles: a setup may change it without touching the prices the
engine fills at.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

from candlewick.core.types import OHLCV_COLUMNS, Candles
from candlewick.indicators import IndicatorSpec, build_frame, compute_indicators
from candlewick.signals.generator import SetupSpec, generate_signals

HOUR = 3_600_000
SPECS = (IndicatorSpec("fast", "sma", {"period": 3}), IndicatorSpec("slow", "sma", {"period": 5}))


def candles(n: int = 60) -> Candles:
    rng = np.random.default_rng(3)
    close = np.round(100.0 + np.cumsum(rng.normal(0.0, 1.0, n)), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    ts = 1_704_067_200_000 + HOUR * np.arange(n, dtype=np.int64)
    high, low = np.maximum(open_, close) + 0.5, np.minimum(open_, close) - 0.5
    return Candles("test", "BTC/USDT", "1h", ts, open_, high, low, close, np.full(n, 10.0))


def test_the_frame_is_its_own_copy_of_the_candles() -> None:
    base = candles()
    frame = build_frame(base, SPECS)
    for name in ("timestamp", *OHLCV_COLUMNS):
        assert not np.shares_memory(frame[name].to_numpy(), getattr(base, name)), name
    before = base.close.copy()
    frame.loc[3, "close"] = 0.0
    frame["spread"] = frame["high"] - frame["low"]
    frame.loc[0, "fast"] = -1.0
    assert frame.loc[3, "close"] == 0.0 and frame.loc[0, "fast"] == -1.0
    assert (frame["spread"] > 0).all()
    np.testing.assert_array_equal(base.close, before)


def test_values_and_signals_equal_a_copied_frame() -> None:
    base = candles(200)
    frame = build_frame(base, SPECS)
    data = {"timestamp": base.timestamp, **{n: base.column(n) for n in OHLCV_COLUMNS}}
    copied = pd.DataFrame(data | compute_indicators(base, SPECS))
    assert list(frame.columns) == list(copied.columns)
    assert frame.columns.dtype == object and all(isinstance(c, str) for c in frame.columns)
    pd.testing.assert_frame_equal(frame, copied, check_column_type=False)
    setups = [SetupSpec("ma_cross", {"fast": "fast", "slow": "slow"})]
    ours, theirs = generate_signals(frame, setups), generate_signals(copied, setups)
    np.testing.assert_array_equal(ours.entry, theirs.entry)
    np.testing.assert_array_equal(ours.exit, theirs.exit)


def test_building_a_frame_does_not_load_pyarrows_pandas_bridge() -> None:
    code = (
        "import sys, numpy as np; from candlewick.core.types import Candles; "
        "from candlewick.indicators import IndicatorSpec, build_frame; n = 50; "
        "c = np.linspace(100.0, 110.0, n); ts = 1704067200000 + 3600000 * np.arange(n); "
        "f = build_frame(Candles('t', 'A/B', '1h', ts, c, c + 1, c - 1, c, c), "
        "[IndicatorSpec('s', 'sma', {'period': 5})]); "
        "assert 'pyarrow.pandas_compat' not in sys.modules, 'pyarrow.pandas_compat imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
