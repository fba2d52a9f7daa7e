"""Exact window sums of decimal prices: the rule that decides ties.

Exchange prices and amounts are decimals with few places (``64123.45``, ``0.0001234``). Two
moving averages of such prices are often *exactly* equal (dozens of bars a year on a 15m
pair), and summing their float64 images leaves ~1e-15 of noise that would decide the bar: a
"cross" a bar early or late. So a window sum is computed exactly:

1. each value is read as the decimal it stands for: the shortest ``r / 10**d`` (``d`` <= 12,
   ``|r| < 2**50``) whose float64 is that value; a value that is no such decimal (a derived
   series, NaN, inf) is *off the grid*;
2. the window's integers ``r`` (on one common scale ``10**D``) are summed exactly;
3. the result ``S / (divisor * 10**D)`` is rounded once, correctly (IEEE division of exact
   operands, or Python's correctly rounded ``int / int`` when they exceed 2**53).

Equal exact values therefore give equal floats, and ``a > b`` on the floats is the exact
comparison of the two decimals' means (unless they differ by less than one float64 unit in
the last place, i.e. 1e-16 relative: far below any price's precision). The value depends only
on the window's contents, not on the history before it or the scale ``D`` chosen (the same
rational rounds to the same float), so the incremental live calculator, which recomputes over
the last bars, gets the same bits as the full-history backtest.

A window holding a value off the grid falls back to float64 summation, left to right inside
the window (also a function of the window alone).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from candlewick.core.types import F64

__all__ = ["MAX_DECIMALS", "average", "decimal_integers", "decimal_places", "window_sum"]

#: The most decimal places a value may have to be read as a decimal.
MAX_DECIMALS = 12
_FLOAT_EXACT = 2.0**53  # integers below this are exact in float64
_GRID_LIMIT = 2.0**50  # a decimal's integer r stays below this: x * 10**d then rounds to r
_INT64_SAFE = 2.0**62  # keep int64 sums clear of overflow

ObjArr = npt.NDArray[np.object_]
BoolArr = npt.NDArray[np.bool_]


def decimal_places(x: F64) -> tuple[npt.NDArray[np.int64], F64]:
    """Per value: decimal places ``d`` (-1 off the grid) and its integer ``r = x * 10**d``.

    When every value is on the grid, ``d`` is one common number of places (the fewest that
    holds them all); otherwise each value's own fewest.

    A value is on the grid when it is the float64 of a decimal ``r / 10**d`` with ``d`` <=
    :data:`MAX_DECIMALS` and ``|r| < 2**50`` (so that ``x * 10**d`` rounds to ``r`` exactly).
    """
    common = _common_places(x)
    if common is not None:  # the usual case: every value a decimal of at most `common` places
        return np.full(len(x), common, dtype=np.int64), np.rint(x * 10.0**common)
    n = len(x)
    places = np.full(n, -1, dtype=np.int64)
    scaled = np.zeros(n, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # One pass at the most places each value allows: a value that is not a decimal there
        # is no decimal with fewer places either (the same rational), so it is off the grid.
        most = np.minimum(np.floor(np.log10(_GRID_LIMIT / np.abs(x))), MAX_DECIMALS)
        most = np.where(x == 0, 0.0, most)
        finite = np.isfinite(x) & np.isfinite(most) & (most >= 0)
        power = 10.0 ** np.where(finite, most, 0.0)
        r = np.rint(x * power)
        pending = finite & (np.abs(r) < _GRID_LIMIT) & (r / power == x)
    for d in range(MAX_DECIMALS + 1):
        idx = np.flatnonzero(pending)
        if not len(idx):
            break
        xs, power_d = x[idx], 10.0**d
        r = np.rint(xs * power_d)
        ok = r / power_d == xs
        hit = idx[ok]
        places[hit], scaled[hit], pending[hit] = d, r[ok], False
    return places, scaled


def _on_grid_at(x: F64, places: int) -> bool:
    """Whether every value of ``x`` is a decimal of at most ``places`` places."""
    power = 10.0**places
    return bool(np.array_equal(np.rint(x * power) / power, x))


def _common_places(x: F64) -> int | None:
    """The fewest places on which every value is a decimal, or None (some off the grid).

    Being on the grid at ``d`` places implies it at ``d + 1`` while ``|x| * 10**(d+1)``
    stays below 2**50, so the fewest is found by bisection: a handful of passes.
    """
    if not len(x):
        return 0
    with np.errstate(invalid="ignore"):
        biggest = float(np.max(np.abs(x)))
    if not np.isfinite(biggest):
        return None
    most = MAX_DECIMALS if biggest == 0 else int(np.floor(np.log10(_GRID_LIMIT / biggest)))
    most = min(most, MAX_DECIMALS)
    if most < 0 or not _on_grid_at(x, most):
        return None
    low, high = 0, most  # on the grid at `high`; find the fewest places
    while low < high:
        middle = (low + high) // 2
        if _on_grid_at(x, middle):
            high = middle
        else:
            low = middle + 1
    return high


def _on_scale(
    places: npt.NDArray[np.int64], scaled: F64, keep: BoolArr
) -> tuple[npt.NDArray[np.int64] | ObjArr, int]:
    """The kept integers on their common scale ``10**D`` (the others 0), and ``D``."""
    top = int(places[keep].max()) if keep.any() else 0
    shift = np.where(keep, top - places, 0)
    kept = np.where(keep, scaled, 0.0)
    if _magnitude(kept * 10.0**shift) < _INT64_SAFE:
        return kept.astype(np.int64) * (10**shift), top
    ints = [int(r) * 10 ** int(s) for r, s in zip(kept, shift, strict=True)]
    return np.array(ints, dtype=object), top


def decimal_integers(x: F64) -> tuple[npt.NDArray[np.int64] | ObjArr, int, BoolArr]:
    """``x`` as integers on one decimal scale: ``(ints, D, on_grid)``, ``x ≈ ints / 10**D``.

    ``on_grid[i]`` is False where ``x[i]`` is no decimal of at most :data:`MAX_DECIMALS`
    places (its integer is then 0). ``ints`` is int64, or Python ints (object) if int64
    could overflow.
    """
    places, scaled = decimal_places(x)
    on_grid = places >= 0
    ints, top = _on_scale(places, scaled, on_grid)
    return ints, top, on_grid


def _magnitude(values: Any) -> float:
    """The largest absolute value of ``values`` (0 when empty), as a float."""
    return float(np.max(np.abs(values.astype(np.float64)))) if len(values) else 0.0


def _divide(numerators: Any, den: int) -> F64:
    """``numerators / den`` rounded once, correctly (int64 or Python-int numerators)."""
    if den >= _FLOAT_EXACT:
        return np.array([int(v) / den for v in numerators], dtype=np.float64)
    approx = numerators.astype(np.float64)
    out: F64 = approx / float(den)
    big = np.flatnonzero(np.abs(approx) >= _FLOAT_EXACT)  # inexact as floats: divide as ints
    out[big] = [int(numerators[i]) / den for i in big]
    return out


def average(columns: Sequence[F64]) -> F64:
    """Element-wise mean of ``columns`` (hl2, hlc3, ohlc4), exact on decimals, rounded once.

    Where a value is off the decimal grid the float64 formula ``(a + b + ...) / k`` is used.
    """
    parts = [decimal_integers(np.asarray(c, dtype=np.float64)) for c in columns]
    top = max(d for _, d, _ in parts)
    bound = sum(_magnitude(ints) * 10.0 ** (top - d) for ints, d, _ in parts)
    fits = bound < _INT64_SAFE and all(ints.dtype == np.int64 for ints, _, _ in parts)
    total = functools.reduce(
        operator.add,
        [(ints if fits else ints.astype(object)) * 10 ** (top - d) for ints, d, _ in parts],
    )
    exact = _divide(total, len(columns) * 10**top)
    on_grid = np.logical_and.reduce([g for _, _, g in parts])
    if not on_grid.all():
        fallback = functools.reduce(operator.add, [np.asarray(c, np.float64) for c in columns])
        exact = np.where(on_grid, exact, fallback / len(columns))
    return exact


def _float_window_sum(x: F64, period: int) -> F64:
    """Each window's sum added left to right in float64 (length ``len(x) - period + 1``)."""
    m = len(x) - period + 1
    acc = np.array(x[:m], dtype=np.float64)
    for j in range(1, period):
        acc += x[j : j + m]
    return acc


def _integer_window_sum(ints: Any, period: int) -> Any:
    """Exact sums of every ``period``-long window of integers (int64 or Python ints)."""
    biggest = _magnitude(ints)
    if ints.dtype == np.int64 and biggest * len(ints) < _INT64_SAFE:
        total = np.concatenate(([0], np.cumsum(ints)))
    elif ints.dtype == np.int64 and biggest * period < _INT64_SAFE:
        m = len(ints) - period + 1  # a running total could overflow; one window cannot
        acc = np.array(ints[:m])
        for j in range(1, period):
            acc += ints[j : j + m]
        return acc
    else:
        total = np.concatenate(([0], np.cumsum(ints.astype(object))))
    return total[period:] - total[:-period]


def _window_counts(flags: BoolArr, period: int) -> npt.NDArray[np.int64]:
    """How many ``flags`` each ``period``-long window holds (one count per window end)."""
    total = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    counts: npt.NDArray[np.int64] = total[period:] - total[:-period]
    return counts


def window_sum(x: F64, period: int, divisor: int = 1) -> F64:
    """Sum of the last ``period`` values divided by ``divisor``, exactly rounded on decimals.

    NaN for the first ``period - 1`` bars. ``divisor=period`` gives the simple moving average.
    See the module docstring for the rule.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.full(len(x), np.nan, dtype=np.float64)
    m = len(x) - period + 1
    if m <= 0:
        return out
    places, scaled = decimal_places(x)
    if places.min(initial=0) >= 0:  # every value on the grid: every window exact
        ints, top = _on_scale(places, scaled, np.ones(len(x), dtype=bool))
        values = _divide(_integer_window_sum(ints, period), divisor * 10**top)
        out[period - 1 :] = values
        return out
    exact_window = _window_counts(places < 0, period) == 0
    values = np.full(m, np.nan, dtype=np.float64)
    if exact_window.any():
        # the values some exact window holds: window k holds values k .. k + period - 1
        covered = np.concatenate((exact_window, np.zeros(period - 1, dtype=bool)))
        used = _window_counts(np.concatenate((np.zeros(period - 1, bool), covered)), period) > 0
        ints, top = _on_scale(places, scaled, used)
        sums = _integer_window_sum(ints, period)[exact_window]
        values[exact_window] = _divide(sums, divisor * 10**top)
    if not exact_window.all():
        fallback = _float_window_sum(x, period)
        if divisor != 1:
            fallback /= divisor
        values = np.where(exact_window, values, fallback)
    out[period - 1 :] = values
    return out
