"""Volume indicators and Ichimoku against hand computation (see test_indicators_hand.py):
OBV, MFI, session and rolling VWAP, the Ichimoku cloud."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from tests.unit.test_indicators_hand import (
    CLOSES,
    HIGHS,
    LOWS,
    Series,
    check,
    combine,
    fr,
    run,
    windowed,
)

H, L, C = fr(HIGHS), fr(LOWS), fr(CLOSES)
V = fr("1200 900 1500 800 1100 2500 1900 700 1000 1800 2600 1400 900 1300")
TP = [(h + lo + c) / 3 for h, lo, c in zip(H, L, C, strict=True)]  # typical price, hlc3
HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def test_obv_adds_volume_on_up_closes_and_starts_at_the_first_bar_volume() -> None:
    """Granville's OBV: + volume on a higher close, - on a lower one, unchanged on an equal.
    Convention pinned (TA-Lib's): the series starts at the first bar's volume, not at 0."""
    closes = fr("10 11 11 10.5 12 12 11")
    volume = fr("100 200 300 400 500 600 700")
    # By hand: 100; +200 = 300; = 300; -400 = -100; +500 = 400; = 400; -700 = -300
    assert run("obv", closes, volume)[0].tolist() == [100, 300, 300, -100, 400, 400, -300]
    expected: list[Fraction] = [V[0]]
    for t in range(1, len(C)):
        sign = (C[t] > C[t - 1]) - (C[t] < C[t - 1])
        expected.append(expected[-1] + sign * V[t])
    check(run("obv", C, V)[0], list(expected), 10_000)


def mfi_ref(tp: Sequence[Fraction], volume: Sequence[Fraction], n: int) -> Series:
    """Quong and Soudack's money flow index: money flow = typical price x volume, positive when
    the typical price rose from the bar before, negative when it fell; MFI = 100 x positive /
    (positive + negative) over the last n bars (0 without any flow)."""
    out: Series = [None] * len(tp)
    for t in range(n, len(tp)):
        pos = sum(
            (tp[i] * volume[i] for i in range(t - n + 1, t + 1) if tp[i] > tp[i - 1]), Fraction(0)
        )
        neg = sum(
            (tp[i] * volume[i] for i in range(t - n + 1, t + 1) if tp[i] < tp[i - 1]), Fraction(0)
        )
        out[t] = Fraction(0) if pos + neg == 0 else 100 * pos / (pos + neg)
    return out


def test_money_flow_index() -> None:
    check(run("mfi", H, L, C, V, period=4)[0], mfi_ref(TP, V, 4), 100)
    # By hand, period 2, bar 2: typical prices 10.2, 10.5, 10.6 rise twice: MFI 100.
    # Bar 3: tp 10.3333.. falls: positive 10.6 x 1500 = 15900, negative 10.333.. x 800 = 8266.66..
    # MFI = 100 x 15900 / 24166.66.. = 65.79..
    got = run("mfi", H, L, C, V, period=2)[0]
    np.testing.assert_allclose(got[2:4], [100.0, 100 * 15900 / (15900 + 24800 / 3)], rtol=1e-13)


def test_session_vwap_restarts_at_each_utc_day() -> None:
    """VWAP: cumulative (typical price x volume) / cumulative volume since the session's start
    (00:00 UTC with the default 1d anchor)."""
    # Bars every 5 h from 2024-01-01 10:00: days change between bars 2/3, 7/8 and 12/13.
    ts = [T0 + 10 * HOUR + 5 * HOUR * i for i in range(len(C))]
    days = [t // DAY for t in ts]
    expected: Series = []
    for t in range(len(C)):
        same = [i for i in range(t + 1) if days[i] == days[t]]
        expected.append(sum((TP[i] * V[i] for i in same), Fraction(0)) / sum(V[i] for i in same))
    got = run("vwap", np.array(ts, dtype=np.int64), H, L, C, V)[0]
    check(got, expected, 12)
    # By hand: bar 3 opens a new day, so its VWAP is its own typical price, (10.6+10.1+10.3)/3.
    assert abs(got[3] - 10.333333333333334) < 1e-12
    # A session that has traded nothing yet has no VWAP.
    quiet = run("vwap", np.array(ts[:3], dtype=np.int64), H[:3], L[:3], C[:3], fr("0 0 5"))[0]
    assert np.isnan(quiet[:2]).all() and abs(quiet[2] - float(TP[2])) < 1e-12


def test_rolling_vwap() -> None:
    pv = [tp * v for tp, v in zip(TP, V, strict=True)]
    sums = windowed(pv, 4, lambda w: sum(w, Fraction(0)))
    volumes = windowed(V, 4, lambda w: sum(w, Fraction(0)))
    check(
        run("vwap_rolling", H, L, C, V, period=4)[0], combine(lambda a, b: a / b, sums, volumes), 12
    )


def test_ichimoku_lines_known_at_the_close_of_their_bar() -> None:
    """Hosoda's Ichimoku: tenkan and kijun are the midpoints (highest high + lowest low) / 2
    of the last 9 and 26 bars; senkou A = (tenkan + kijun) / 2 and senkou B = the 52-bar
    midpoint, both drawn 26 bars ahead on a chart. Convention pinned (no lookahead): the
    spans are given under the bar they are drawn at (computed ``displacement`` bars before),
    and chikou, drawn 26 bars back, is given as close - close ``displacement`` bars ago.
    Small periods here: tenkan 2, kijun 3, senkou B 4, displacement 2; every output shares
    the warm-up max(periods) - 1 + displacement = 5 bars."""

    def midpoint(n: int) -> Series:
        return combine(lambda a, b: (a + b) / 2, windowed(H, n, max), windowed(L, n, min))

    def later(xs: Series, k: int) -> Series:
        return [None] * k + xs[: len(xs) - k]

    def masked(xs: Series) -> Series:
        return [None if t < 5 else v for t, v in enumerate(xs)]

    tenkan, kijun = midpoint(2), midpoint(3)
    span_a = later(combine(lambda a, b: (a + b) / 2, tenkan, kijun), 2)
    span_b = later(midpoint(4), 2)
    chikou = combine(lambda a, b: a - b, list(C), later(list(C), 2))
    got = run("ichimoku", H, L, C, tenkan=2, kijun=3, senkou_b=4, displacement=2)
    for actual, expected in zip(got, (tenkan, kijun, span_a, span_b, chikou), strict=True):
        check(actual, masked(expected), 12)
    # By hand, bar 5: tenkan over bars 4..5 = (11.30 + 10.30) / 2 = 10.80; senkou A under
    # bar 5 comes from bar 3: tenkan (10.90 + 10.10) / 2 = 10.50 and kijun over bars 1..3
    # (10.90 + 10.10) / 2 = 10.50 give 10.50; chikou 11.20 - 10.30 = 0.90.
    assert abs(got[0][5] - 10.8) < 1e-12 and abs(got[2][5] - 10.5) < 1e-12
    assert abs(got[4][5] - 0.9) < 1e-12
