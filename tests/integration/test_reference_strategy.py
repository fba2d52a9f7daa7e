"""The reference strategy on real candles, checked against an independent implementation.

The independent version shares nothing with the engine but the CSV: the SMAs compared as exact
fractions of the CSV's decimal strings (the documented rule: a tie is not a cross), a plain
Python loop over bars and Decimal arithmetic written out by hand.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candlewick.config.loader import load_trading_config
from candlewick.core.types import Candles
from candlewick.data.csv_import import parse_candle_filename
from candlewick.modes.backtest import run_backtest_job
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml"


def exact_sma(closes: list[Fraction], period: int) -> list[Fraction | None]:
    """The simple moving average as exact fractions (None during the warm-up)."""
    total = [Fraction(0)]
    for c in closes:
        total.append(total[-1] + c)
    return [
        (total[t + 1] - total[t + 1 - period]) / period if t >= period - 1 else None
        for t in range(len(closes))
    ]


def independent_sma_cross(frame: pd.DataFrame, text: pd.DataFrame) -> tuple[int, Decimal]:
    closes = [Fraction(Decimal(c)) for c in text["close"]]
    fast, slow = exact_sma(closes, 10), exact_sma(closes, 30)
    opens = [Decimal(repr(float(x))) for x in frame["open"]]
    last_close = Decimal(repr(float(frame["close"].iloc[-1])))
    fee = Decimal("0.001")
    cash, held, trades = Decimal(10_000), None, 0
    for t in range(30, len(frame) - 1):  # both SMAs exist at t - 1 from t = 30 on
        f, s, f_prev, s_prev = fast[t], slow[t], fast[t - 1], slow[t - 1]
        assert f is not None and s is not None and f_prev is not None and s_prev is not None
        up = f > s and f_prev <= s_prev
        down = f < s and f_prev >= s_prev
        if held is None and up:
            bought = cash / opens[t + 1]
            held, cash = bought - bought * fee, Decimal(0)
        elif held is not None and down:
            gross = held * opens[t + 1]
            cash, held, trades = gross - gross * fee, None, trades + 1
    if held is not None:
        gross = held * last_close
        cash, trades = gross - gross * fee, trades + 1
    return trades, cash


@pytest.mark.parametrize(
    "filename",
    ["binance_BTC-USDT_5m.csv.gz", "binance_XRP-USDT_5m.csv", "binance_ETH-USDT_1h.csv.gz"],
)
def test_reference_strategy_matches_an_independent_implementation(filename: str) -> None:
    assert SHARED is not None
    frame = pd.read_csv(SHARED / "candles" / filename)
    text = pd.read_csv(SHARED / "candles" / filename, dtype=str)
    named = parse_candle_filename(filename)
    assert named is not None
    exchange, pair, timeframe = named
    candles = Candles(
        exchange,
        pair,
        timeframe,
        frame["timestamp"].to_numpy(np.int64),
        *(frame[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume")),
    )
    config = load_trading_config(EXAMPLE)
    result, _ = run_backtest_job(config, {pair: candles})
    trades, final = independent_sma_cross(frame, text)
    assert len(result.trades) == trades
    assert result.final_equity == final
    if filename.startswith("binance_BTC-USDT_5m"):
        assert (trades, round(final, 8)) == (3114, Decimal("20.66599850"))
