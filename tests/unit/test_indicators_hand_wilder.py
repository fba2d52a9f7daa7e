"""Wilder's indicators against hand computation: ATR, DMI/ADX, Parabolic SAR, and the ATR-based
Keltner channel and Supertrend (see test_indicators_hand.py for the method).

Source of the definitions: J. Welles Wilder, "New Concepts in Technical Trading Systems" (1978).
"""

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
    ema_ref,
    fr,
    run,
    wilder_ref,
)

ZERO = Fraction(0)


def true_range(h: Sequence[Fraction], lo: Sequence[Fraction], c: Sequence[Fraction]) -> Series:
    """Wilder's true range: the greatest of high - low, |high - prev close|, |low - prev close|
    (none on the first bar, which has no previous close)."""
    tr: Series = [None]
    for t in range(1, len(h)):
        tr.append(max(h[t] - lo[t], abs(h[t] - c[t - 1]), abs(lo[t] - c[t - 1])))
    return tr


def atr_ref(h: Sequence[Fraction], lo: Sequence[Fraction], c: Sequence[Fraction], n: int) -> Series:
    """Wilder's ATR: the mean of the first n true ranges (bars 1..n), then Wilder smoothing."""
    tr = true_range(h, lo, c)
    return wilder_ref([ZERO if x is None else x for x in tr], n, 1)


def directional_movement(
    h: Sequence[Fraction], lo: Sequence[Fraction]
) -> tuple[list[Fraction], list[Fraction]]:
    """+DM and -DM per bar: the up-move (high - prev high) when it is positive and larger than
    the down-move (prev low - low), else 0; and the other way round."""
    plus, minus = [ZERO], [ZERO]
    for t in range(1, len(h)):
        up, down = h[t] - h[t - 1], lo[t - 1] - lo[t]
        plus.append(up if up > 0 and up > down else ZERO)
        minus.append(down if down > 0 and down > up else ZERO)
    return plus, minus


def running_sum(xs: Sequence[Fraction], n: int, textbook: bool) -> Series:
    """Wilder's smoothed sum S = S - S / n + x, from bar n on.

    ``textbook``: Wilder's seed, the plain sum of the first n values (bars 1..n).
    Otherwise TA-Lib's seed, which Candlewick's ``dmi``/``adx`` use: the sum of bars 1..n-1,
    then one smoothing step with bar n's value. The two differ by a factor that fades as
    (1 - 1/n) per bar; the test below pins TA-Lib's and bounds the distance to Wilder's.
    """
    out: Series = [None] * len(xs)
    if textbook:
        s = sum(xs[1 : n + 1], ZERO)
    else:
        s = sum(xs[1:n], ZERO)
        s = s - s / n + xs[n]
    out[n] = s
    for t in range(n + 1, len(xs)):
        s = s - s / n + xs[t]
        out[t] = s
    return out


def dmi_ref(
    h: Sequence[Fraction], lo: Sequence[Fraction], c: Sequence[Fraction], n: int, textbook: bool
) -> tuple[Series, Series, Series]:
    """+DI, -DI (100 x smoothed DM / smoothed TR) and ADX (the mean of the first n DX, then
    Wilder smoothing; DX = 100 x |+DI - -DI| / (+DI + -DI))."""
    plus, minus = directional_movement(h, lo)
    tr = [ZERO if x is None else x for x in true_range(h, lo, c)]
    sp, sm, st = (running_sum(x, n, textbook) for x in (plus, minus, tr))
    pdi = combine(lambda a, b: 100 * a / b, sp, st)
    mdi = combine(lambda a, b: 100 * a / b, sm, st)
    dx = combine(lambda p, m: 100 * abs(p - m) / (p + m), pdi, mdi)
    adx = wilder_ref([ZERO if x is None else x for x in dx], n, n)
    return pdi, mdi, adx


H, L, C = fr(HIGHS), fr(LOWS), fr(CLOSES)
# A longer series for the DMI/ADX: the same bars and their mirror image continued.
H2 = H + [Fraction(24) - x for x in reversed(L)]
L2 = L + [Fraction(24) - x for x in reversed(H)]
C2 = C + [Fraction(24) - x for x in reversed(C)]


def test_atr_is_wilders_average_of_the_true_range() -> None:
    check(run("atr", H, L, C, period=4)[0], atr_ref(H, L, C, 4), 12)
    # By hand, period 3: true ranges of bars 1..3: max(.50, .50, .00) = .50; max(.50, .30,
    # .20) = .50; max(.50, .10, .40) = .50: ATR 0.5 at bar 3. Bar 4: TR max(.50, .50, .00) =
    # .50 -> 0.5. Bar 5: max(.60, .60, .00) = .60 -> (2 x .5 + .6) / 3 = 0.5333..
    got = run("atr", H, L, C, period=3)[0]
    np.testing.assert_allclose(got[3:6], [0.5, 0.5, 1.6 / 3], rtol=1e-14)


def test_dmi_and_adx_pin_talibs_seed_and_converge_to_wilders_textbook_values() -> None:
    n = 4
    pdi, mdi, adx = dmi_ref(H2, L2, C2, n, textbook=False)
    got_plus, got_minus = run("dmi", H2, L2, C2, period=n)
    check(got_plus, pdi, 100)
    check(got_minus, mdi, 100)
    check(run("adx", H2, L2, C2, period=n)[0], adx, 100)
    # Wilder's own seed gives other values at first; the gap shrinks by (1 - 1/n) a bar.
    wilder = dmi_ref(H2, L2, C2, n, textbook=True)
    for got, book in zip((got_plus, got_minus), wilder[:2], strict=True):
        for t in range(n, len(H2)):
            value = book[t]
            assert value is not None
            assert abs(got[t] - float(value)) <= 30 * (1 - 1 / n) ** (t - n)


def test_dmi_first_values_by_hand() -> None:
    # Period 3, TA-Lib's seed. Bars 1, 2: +DM .30, .20 (up-moves beat down-moves), -DM 0, 0;
    # TR .50, .50. Sums of bars 1..2: +DM .50, TR 1.00; bar 3: +DM 0 (down-move .30 wins),
    # -DM .30, TR .50: S+ = .50 - .50/3 + 0 = 1/3, S- = .30, STR = 1 - 1/3 + .5 = 7/6.
    # +DI = 100 x (1/3) / (7/6) = 28.571..; -DI = 100 x .3 / (7/6) = 25.714..
    plus, minus = run("dmi", H, L, C, period=3)
    np.testing.assert_allclose([plus[3], minus[3]], [200 / 7, 180 / 7], rtol=1e-13)


def sar_ref(h: Sequence[Fraction], lo: Sequence[Fraction], step: Fraction, top: Fraction) -> Series:
    """Wilder's Parabolic SAR, with TA-Lib's start (which Candlewick's ``sar`` pins).

    Start (TA-Lib): short if bar 1's down-move (prev low - low) is positive and larger than
    its up-move, else long; a long starts with SAR = bar 0's low and EP = bar 1's high (a
    short: bar 0's high, bar 1's low); the first value is at bar 1. Then Wilder's rules, bar
    by bar: a bar whose low (high) reaches the SAR of a long (short) reverses it: the SAR
    becomes the extreme point of the finished trend (at least the two bars' highs, lows for
    a short), AF restarts at ``step`` and EP at this bar's extreme. Otherwise a new extreme
    moves EP and adds ``step`` to AF (at most ``top``). Tomorrow's SAR = SAR + AF (EP - SAR),
    never inside today's or yesterday's range.
    """
    out: Series = [None] * len(h)
    up, down = h[1] - h[0], lo[0] - lo[1]
    long = not (down > 0 and down > up)
    sar, ep = (lo[0], h[1]) if long else (h[0], lo[1])
    af = step
    for t in range(1, len(h)):
        ph, pl = h[t - 1], lo[t - 1]
        if t == 1:
            ph, pl = h[1], lo[1]  # TA-Lib: yesterday's range is today's on the first bar
        if long and lo[t] <= sar:
            long, sar = False, max(ep, ph, h[t])
            out[t] = sar
            af, ep = step, lo[t]
            sar = max(sar + af * (ep - sar), ph, h[t])
        elif not long and h[t] >= sar:
            long, sar = True, min(ep, pl, lo[t])
            out[t] = sar
            af, ep = step, h[t]
            sar = min(sar + af * (ep - sar), pl, lo[t])
        elif long:
            out[t] = sar
            if h[t] > ep:
                ep, af = h[t], min(af + step, top)
            sar = min(sar + af * (ep - sar), pl, lo[t])
        else:
            out[t] = sar
            if lo[t] < ep:
                ep, af = lo[t], min(af + step, top)
            sar = max(sar + af * (ep - sar), ph, h[t])
    return out


def test_parabolic_sar() -> None:
    got = run("sar", H2, L2, acceleration=0.1, maximum=0.3)[0]
    check(got, sar_ref(H2, L2, Fraction(1, 10), Fraction(3, 10)), 24)
    # By hand (AF 0.1, +0.1, max 0.3): bar 1 rises, so long; SAR(1) = bar 0's low 10.00,
    # EP = 10.70. Bar 1 makes no new high over EP: SAR(2) = 10 + .1 x .7 = 10.07, under
    # the lows of bars 0, 1. Bar 2's high 10.90 is a new EP, AF .2: SAR(3) = 10.07 + .2 x
    # .83 = 10.236, above bar 1's low 10.20? No: capped at min(10.20, 10.40) = 10.20.
    # Bar 3 (low 10.10) reaches 10.20: reversal to short at EP 10.90.
    np.testing.assert_allclose(got[1:4], [10.0, 10.07, 10.9], rtol=1e-14)
    got_default = run("sar", H2, L2)[0]
    check(got_default, sar_ref(H2, L2, Fraction(2, 100), Fraction(20, 100)), 24)


def test_keltner_channel() -> None:
    """Keltner (Raschke's modern form): EMA(close) middle, +/- multiplier x ATR (Wilder)."""
    middle = ema_ref(list(C), 3)
    atr = atr_ref(H, L, C, 4)
    warm = max(3 - 1, 4)
    upper, mid, lower = run("keltner", H, L, C, period=3, atr_period=4, multiplier=1.5)
    middle = [None if t < warm else m for t, m in enumerate(middle)]
    check(mid, middle, 12)
    check(upper, combine(lambda m, a: m + Fraction(3, 2) * a, middle, atr), 12)
    check(lower, combine(lambda m, a: m - Fraction(3, 2) * a, middle, atr), 12)


def supertrend_ref(
    h: Sequence[Fraction], lo: Sequence[Fraction], c: Sequence[Fraction], n: int, mult: Fraction
) -> tuple[Series, Series]:
    """Supertrend as TradingView defines it (Pine's ``ta.supertrend``) on Wilder's ATR.

    Bands hl2 -/+ mult x ATR(n); the lower band may only rise while the previous close is
    above it, the upper band only fall while the previous close is below it; the trend turns
    up when the close rises above the previous upper band, down when it falls below the
    previous lower band; the line is the lower band in an up-trend, else the upper band.
    Convention pinned: the ATR is Wilder's as TA-Lib seeds it (bars 1..n, first value at bar
    n; Pine's ``ta.atr`` also counts bar 0's high - low), and the first trend is up.
    """
    atr = atr_ref(h, lo, c, n)
    line: Series = [None] * len(h)
    trend: Series = [None] * len(h)
    lower = upper = ZERO
    direction = 1
    for t in range(n, len(h)):
        a = atr[t]
        assert a is not None
        mid = (h[t] + lo[t]) / 2
        new_lower, new_upper = mid - mult * a, mid + mult * a
        if t > n:
            if c[t - 1] > lower:
                new_lower = max(new_lower, lower)
            if c[t - 1] < upper:
                new_upper = min(new_upper, upper)
            if direction < 0 and c[t] > upper:
                direction = 1
            elif direction > 0 and c[t] < lower:
                direction = -1
        lower, upper = new_lower, new_upper
        line[t] = lower if direction > 0 else upper
        trend[t] = Fraction(direction)
    return line, trend


def test_supertrend() -> None:
    for mult in (Fraction(1, 2), Fraction(1), Fraction(3)):
        line, trend = supertrend_ref(H2, L2, C2, 3, mult)
        got_line, got_trend = run("supertrend", H2, L2, C2, period=3, multiplier=float(mult))
        check(got_line, line, 24)
        check(got_trend, trend)
    # With a narrow band the trend flips both ways on these bars.
    assert {-1.0, 1.0} <= set(run("supertrend", H2, L2, C2, period=3, multiplier=0.5)[1][3:])


def test_supertrend_first_value_by_hand() -> None:
    # Period 3: ATR(3) at bar 3 = 0.5 (see the ATR test); hl2 = (10.60 + 10.10) / 2 = 10.35;
    # multiplier 2: lower band 10.35 - 1.0 = 9.35, the line of the first (up) trend.
    line, trend = run("supertrend", H, L, C, period=3, multiplier=2.0)
    assert np.isnan(line[2]) and (line[3], trend[3]) == (9.35, 1.0)
