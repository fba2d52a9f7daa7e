"""Filters: keep or reject entry signals, with a short human reason for every rejection.

A filter is a pure function ``(frame, entries, params) -> FilterVerdict``. ``keep`` is
computed for every bar in one vectorised pass (it only matters where ``entries`` is True);
the reason text is formatted only for the rejected entries. Like setups, filters read bar
``t`` and earlier bars only. :func:`filter_` registers a function in :data:`FILTERS`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from candlewick.core.registry import Registry
from candlewick.core.timeframes import MINUTE_MS, timeframe_ms
from candlewick.core.types import BoolArr
from candlewick.errors import StrategyError
from candlewick.indicators import talib_lazy as talib
from candlewick.signals.setups import Params, choice, column, number, ohlcv, register_wrapped

__all__ = [
    "FILTERS",
    "FilterFn",
    "FilterVerdict",
    "filter_",
    "parse_hour_windows",
    "verdict",
]

ObjArr = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class FilterVerdict:
    """Per-bar ``keep`` flags and, for rejected entries, a ``reason`` ("" elsewhere)."""

    keep: BoolArr
    reason: ObjArr


def verdict(entries: BoolArr, keep: BoolArr, reason_for: Callable[[int], str]) -> FilterVerdict:
    """A verdict whose reasons are ``reason_for(bar)`` on the rejected entries, "" elsewhere.

    The only per-bar Python loop of a filter: it runs over rejected entries only.
    """
    keep = np.asarray(keep, dtype=np.bool_)
    reason = np.full(keep.shape, "", dtype=object)
    for i in np.flatnonzero(entries & ~keep):
        reason[i] = reason_for(int(i))
    return FilterVerdict(keep, reason)


class FilterFn(Protocol):
    """A registered filter. ``exits`` (the combined exit signals) is passed by the generator."""

    def __call__(
        self,
        frame: pd.DataFrame,
        entries: BoolArr,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        exits: BoolArr | None = None,
    ) -> FilterVerdict: ...


RawFilterFn = Callable[[pd.DataFrame, BoolArr, Mapping[str, Any]], FilterVerdict]

#: Every filter, built-in or from a user's plugin file, by name.
FILTERS: Registry[FilterFn] = Registry("filter")


class FilterParams(Params):
    """Params of a filter, plus the exit signals the generator hands over (or None)."""

    __slots__ = ("exits",)

    def __init__(self, base: Params, exits: BoolArr | None) -> None:
        super().__init__(base.kind, base.owner, dict(base), base.hints)
        self.exits = exits


def _check_verdict(name: str, result: object, n: int) -> FilterVerdict:
    if not isinstance(result, FilterVerdict):
        raise StrategyError(
            f"filter {name!r} returned {type(result).__name__}, expected FilterVerdict"
        )
    keep = np.asarray(result.keep)
    if keep.dtype != np.bool_ or keep.shape != (n,) or np.shape(result.reason) != (n,):
        raise StrategyError(
            f"filter {name!r} must return keep (bool) and reason arrays of length {n}; "
            f"got keep {keep.dtype} {keep.shape}, reason {np.shape(result.reason)}"
        )
    return result


def filter_(
    name: str,
    *,
    defaults: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
) -> Callable[[RawFilterFn], FilterFn]:
    """Decorator: register a filter under ``name`` in :data:`FILTERS` (see ``setups.setup``)."""

    def decorate(fn: RawFilterFn) -> FilterFn:
        @functools.wraps(fn)
        def run(
            frame: pd.DataFrame,
            entries: BoolArr,
            params: Mapping[str, Any] | None = None,
            /,
            *,
            exits: BoolArr | None = None,
        ) -> FilterVerdict:
            base = Params.resolve("filter", name, defaults, columns, params)
            entries = np.asarray(entries, dtype=np.bool_)
            return _check_verdict(name, fn(frame, entries, FilterParams(base, exits)), len(frame))

        return register_wrapped(FILTERS, name, run, fn, defaults, columns)

    return decorate


# -------------------------------------------------------------------------- built-in filters


def _rolling_mean(values: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    return pd.Series(values).rolling(n, min_periods=n).mean().to_numpy(dtype=np.float64)


@filter_(
    "volume",
    defaults={"n": 20, "k": 0.8, "min_volume": None, "column": "volume"},
    columns={"column": "a volume column"},
)
def volume_filter(
    frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]
) -> FilterVerdict:
    """Keep entries on bars with enough volume.

    ``volume[t] >= k * mean(volume[t-n+1..t])`` (set ``k`` to None to skip) and, if
    ``min_volume`` is set, ``volume[t] >= min_volume``. During the first ``n - 1`` bars the
    mean does not exist yet and entries are rejected.
    """
    vol = column(frame, params, "column")
    keep = np.ones(len(vol), dtype=np.bool_)
    k, min_volume = params["k"], params["min_volume"]
    if k is None and min_volume is None:
        raise StrategyError("filter 'volume': set k, min_volume or both (both are None)")
    n = int(number(params, "n", low=1, integer=True))
    mean = _rolling_mean(vol, n)
    if k is not None:
        k = number(params, "k", low=0.0)
        keep &= vol >= k * mean
    if min_volume is not None:
        min_volume = number(params, "min_volume", low=0.0)
        keep &= vol >= min_volume

    def why(i: int) -> str:
        if min_volume is not None and not vol[i] >= min_volume:
            return f"volume {vol[i]:.4g} < minimum {min_volume:g}"
        if np.isnan(mean[i]):
            return f"volume SMA({n}) not available yet (warm-up)"
        return f"volume {vol[i]:.4g} < {k:g} x SMA({n}) {mean[i]:.4g}"

    return verdict(entries, keep, why)


@filter_(
    "volatility_band",
    defaults={"atr": None, "period": 14, "min_ratio": 0.0, "max_ratio": None},
    columns={"atr": "an ATR indicator with that id"},
)
def volatility_band(
    frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]
) -> FilterVerdict:
    """Keep entries while volatility, ATR / close, lies within ``[min_ratio, max_ratio]``.

    ``atr`` names an ATR column; None computes TA-Lib's ATR(``period``) from high, low, close.
    Entries where the ATR is not available yet (warm-up) are rejected.
    """
    close = ohlcv(frame, params, "close")
    if params["atr"] is None:
        period = int(number(params, "period", low=1, integer=True))
        atr = talib.ATR(
            ohlcv(frame, params, "high"), ohlcv(frame, params, "low"), close, timeperiod=period
        )
        label = f"ATR({period})"
    else:
        atr, label = column(frame, params, "atr"), str(params["atr"])
    lo = number(params, "min_ratio", low=0.0)
    hi = np.inf if params["max_ratio"] is None else number(params, "max_ratio", low=lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = atr / close
    keep = (ratio >= lo) & (ratio <= hi)

    def why(i: int) -> str:
        if np.isnan(ratio[i]):
            return f"{label} not available yet (warm-up)"
        if ratio[i] < lo:
            return f"{label}/close {ratio[i]:.4g} < min {lo:g}"
        return f"{label}/close {ratio[i]:.4g} > max {hi:g}"

    return verdict(entries, keep, why)


_HTF = "an indicator on the higher timeframe (e.g. an ema with timeframe 1h), merged as that id"


@filter_(
    "htf_trend",
    defaults={"price": "close_1h", "trend": "ema_1h", "direction": "up"},
    columns={"price": "the higher-timeframe close (e.g. close_1h)", "trend": _HTF},
)
def htf_trend(frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]) -> FilterVerdict:
    """Keep entries while the higher-timeframe trend agrees: ``price > trend`` ("up").

    ``price`` and ``trend`` are informative columns already merged onto the base bars
    (closed higher-timeframe bars only). ``direction="down"`` keeps ``price < trend``.
    """
    price, trend = column(frame, params, "price"), column(frame, params, "trend")
    direction = choice(params, "direction", ("up", "down"))
    keep = price > trend if direction == "up" else price < trend
    op = "<=" if direction == "up" else ">="
    a, b = params["price"], params["trend"]
    return verdict(
        entries,
        keep,
        lambda i: f"{a} {price[i]:.6g} {op} {b} {trend[i]:.6g} (trend not {direction})",
    )


_WINDOW = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_hour_windows(spec: str | Sequence[str]) -> list[tuple[int, int]]:
    """UTC windows "08-20", "22:30-02", "08-12,14-18" as (start, end) minutes of the day.

    Start is inclusive, end exclusive; a window with start > end wraps over midnight; "24"
    is allowed as an end. Raises StrategyError naming the bad piece and the accepted format.
    """
    pieces = spec.split(",") if isinstance(spec, str) else list(spec)
    windows: list[tuple[int, int]] = []
    for piece in pieces:
        m = _WINDOW.match(str(piece))
        bad = m is None
        if m is not None:
            h1, m1, h2, m2 = (int(g) if g else 0 for g in m.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            bad = h1 > 23 or m1 > 59 or m2 > 59 or end > 1440 or start == end
        if bad or m is None:
            raise StrategyError(
                f"filter 'time_of_day': bad window {piece!r} in allowed_hours {spec!r}; "
                "use HH-HH or HH:MM-HH:MM in UTC, comma-separated, start != end "
                "(e.g. '08-20', '22-04' over midnight, '00-24' for the whole day)"
            )
        windows.append((start, end))
    return windows


@filter_(
    "time_of_day",
    defaults={"allowed_hours": "00-24", "timeframe": None},
)
def time_of_day(frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]) -> FilterVerdict:
    """Keep entries inside UTC time windows (``allowed_hours`` "08-20", "22-04", "08-12,14-18").

    The time matched is the bar's close — the moment the decision is taken and the order
    sent — when the bar length is known: the ``timeframe`` param (e.g. "5m") or the frame's
    ``attrs["timeframe"]``, which the strategy pipeline sets. Otherwise it is the bar's open
    (the ``timestamp`` column).
    """
    windows = parse_hour_windows(params["allowed_hours"])
    ohlcv(frame, params, "timestamp")  # checks that it is there
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    timeframe = params["timeframe"] or frame.attrs.get("timeframe")
    if timeframe is not None:
        try:
            ts = ts + timeframe_ms(str(timeframe))
        except ValueError as exc:
            raise StrategyError(f"filter 'time_of_day': param 'timeframe': {exc}") from None
    minute = (ts // MINUTE_MS) % 1440
    keep = np.zeros(len(ts), dtype=np.bool_)
    for start, end in windows:
        keep |= (
            (minute >= start) & (minute < end)
            if start < end
            else (minute >= start) | (minute < end)
        )
    allowed = ",".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in windows)
    return verdict(
        entries,
        keep,
        lambda i: f"{minute[i] // 60:02d}:{minute[i] % 60:02d} UTC outside {allowed}",
    )


@filter_("cooldown", defaults={"bars": 12, "exit_column": None})
def cooldown(frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]) -> FilterVerdict:
    """Reject an entry within ``bars`` bars after the latest exit signal (same bar included).

    The exit signals are the generator's combined exits, or the bool column ``exit_column``.
    This is a signal cooldown; a cooldown after a closed trade (stop loss included) is the
    risk manager's.
    """
    bars = int(number(params, "bars", low=0, integer=True))
    if params["exit_column"] is not None:
        exits = column(frame, params, "exit_column") > 0.0
    elif isinstance(params, FilterParams) and params.exits is not None:
        exits = np.asarray(params.exits, dtype=np.bool_)
    else:
        raise StrategyError(
            "filter 'cooldown' needs exit signals: run it through generate_signals, "
            "or set exit_column to a boolean column of the frame"
        )
    idx = np.arange(len(exits))
    last_exit = np.maximum.accumulate(np.where(exits, idx, -1)) if len(exits) else idx
    since = idx - last_exit
    keep = (last_exit < 0) | (since > bars)
    return verdict(
        entries,
        keep,
        lambda i: f"{since[i]} bars after the exit signal at bar {last_exit[i]} (cooldown {bars})",
    )
