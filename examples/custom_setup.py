"""A user's own setup and filter in one file: load it with ``plugins: [examples/custom_setup.py]``.

Candlewick imports every file listed under ``plugins`` in the config before it builds the
strategy, so the decorators below register ``inside_bar_breakout`` and ``max_bar_range``
next to the built-ins; the config then uses them by name like any other:

    setups:
      - name: inside_bar_breakout
        params: {trend: sma_slow}
    filters:
      - name: max_bar_range
        params: {max_ratio: 0.02}

Rules every setup and filter must keep: read bar t and earlier bars only (never
``shift(-n)`` or a centred window), return one value per bar, build booleans with comparisons
(NaN compares False, so warm-up bars give no signal). Check with
``candlewick backtest --check-lookahead``.

Run this file directly to try both on real candles:
``python examples/custom_setup.py ../shared/data/candles/binance_XRP-USDT_5m.csv``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from candlewick.core.types import BoolArr
from candlewick.signals import (
    FilterVerdict,
    SetupSignals,
    column,
    filter_,
    number,
    ohlcv,
    previous,
    setup,
    verdict,
)


@setup(
    "inside_bar_breakout",
    defaults={"trend": None},
    columns={"trend": "a moving average (e.g. sma, period 50) with that id"},
)
def inside_bar_breakout(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Enter when the close breaks above an inside bar; exit when it breaks below one.

    Bar t-1 is an inside bar when its range lies within bar t-2's. Entry: ``close[t] >
    high[t-1]`` after an inside bar (and, if ``trend`` names a column, ``close[t] >
    trend[t]``). Exit: ``close[t] < low[t-1]`` after an inside bar.
    """
    high, low, close = (ohlcv(frame, params, c) for c in ("high", "low", "close"))
    high1, low1 = previous(high), previous(low)
    inside = (high1 < previous(high1)) & (low1 > previous(low1))
    entry = inside & (close > high1)
    if params["trend"] is not None:
        entry &= close > column(frame, params, "trend")
    return SetupSignals(entry, inside & (close < low1))


@filter_("max_bar_range", defaults={"max_ratio": 0.02})
def max_bar_range(
    frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]
) -> FilterVerdict:
    """Reject entries on bars whose range (high - low) / close exceeds ``max_ratio`` (spikes)."""
    limit = number(params, "max_ratio", low=0.0)
    high, low, close = (ohlcv(frame, params, c) for c in ("high", "low", "close"))
    ratio = (high - low) / close
    keep = ratio <= limit
    return verdict(entries, keep, lambda i: f"bar range {ratio[i]:.3%} > {limit:.3%} of close")


def main(path: str) -> None:
    """Run both on a candle CSV and print what the generator decided."""
    from candlewick.signals import FilterSpec, SetupSpec, decisions_table, generate_signals

    candles = pd.read_csv(path)
    close = candles["close"].to_numpy(dtype=np.float64)
    frame = candles.assign(sma_slow=pd.Series(close).rolling(50).mean())
    signals = generate_signals(
        frame,
        [SetupSpec("inside_bar_breakout", {"trend": "sma_slow"})],
        [FilterSpec("max_bar_range", {"max_ratio": 0.004})],
    )
    print(decisions_table(signals, frame).to_string(index=False, max_rows=20))
    print(f"{int(signals.entry.sum())} entries kept of {int(signals.raw_entry.sum())} raw")


if __name__ == "__main__":
    main(sys.argv[1])
