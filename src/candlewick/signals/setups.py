"""Trading strategy setups: pure functions ``(frame, params) -> SetupSignals``.

A setup reads columns of the frame (one row per base-timeframe bar; every value known at the
bar's close) and says, per bar, whether to enter and whether to exit. It never reads the
future: comparisons use bar ``t`` and earlier bars only (no ``shift(-n)``, no centred windows).

Params name the frame columns to use ("fast": "sma_fast"), so one setup works with whatever
ids the user gave its indicators. :func:`setup` registers a function in :data:`SETUPS` and
wraps it: the wrapper overlays the config's params on the declared defaults, rejects unknown
params, and checks the result. Inside a setup, :func:`column` fetches a column named by a
param and fails with a message saying which indicator to declare.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from candlewick.core.registry import Registry
from candlewick.core.types import F64, BoolArr
from candlewick.errors import StrategyError

F = TypeVar("F", bound=Callable[..., Any])

#: The largest whole-number param (periods, bars) a setup or filter accepts by default.
MAX_BARS = 1_000_000

__all__ = [
    "MAX_BARS",
    "SETUPS",
    "Params",
    "SetupFn",
    "SetupSignals",
    "choice",
    "column",
    "crossed_above",
    "crossed_below",
    "number",
    "ohlcv",
    "previous",
    "setup",
]


@dataclass(frozen=True, slots=True)
class SetupSignals:
    """Per-bar output of a setup: ``entry``/``exit`` bools, optional ``strength`` in [0, 1]."""

    entry: BoolArr
    exit: BoolArr
    strength: F64 | None = None

    def __post_init__(self) -> None:
        for name in ("entry", "exit"):
            arr = np.asarray(getattr(self, name))
            if arr.dtype != np.bool_:
                # Casting floats would turn NaN into True: make the author compare explicitly.
                raise StrategyError(
                    f"setup {name} must be a boolean array, got dtype {arr.dtype}; build it "
                    "with comparisons (>, <, &, |), which are False where a value is NaN"
                )
            object.__setattr__(self, name, arr)
        if self.strength is not None:
            object.__setattr__(self, "strength", np.asarray(self.strength, dtype=np.float64))


class Params(Mapping[str, Any]):
    """Resolved params of one setup or filter: the declared defaults overlaid by the config.

    It remembers whose params they are (``kind`` "setup"/"filter", ``owner`` the registered
    name) and what each column param expects (``hints``), so that errors can say so.
    """

    __slots__ = ("_values", "hints", "kind", "owner")

    def __init__(
        self,
        kind: str,
        owner: str,
        values: Mapping[str, Any],
        hints: Mapping[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.owner = owner
        self._values = dict(values)
        self.hints = dict(hints or {})

    @classmethod
    def resolve(
        cls,
        kind: str,
        owner: str,
        defaults: Mapping[str, Any] | None,
        hints: Mapping[str, str] | None,
        given: Mapping[str, Any] | None,
    ) -> Params:
        """``defaults`` overlaid by ``given``; with declared defaults, unknown keys are errors."""
        given = dict(given or {})
        if defaults is not None:
            for key in given:
                if key not in defaults:
                    close = difflib.get_close_matches(key, list(defaults), n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    known = ", ".join(defaults) or "(none)"
                    raise StrategyError(
                        f"{kind} {owner!r} has no param {key!r}.{hint} Its params are: {known}"
                    )
        return cls(kind, owner, {**(defaults or {}), **given}, hints)

    def error(self, message: str) -> StrategyError:
        """A StrategyError prefixed with whose params these are."""
        return StrategyError(f"{self.kind} {self.owner!r}: {message}")

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise self.error(
                f"missing param {key!r}; given: {', '.join(self._values) or '(none)'}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self.kind} {self.owner!r}, {self._values!r})"


def _as_params(params: Mapping[str, Any]) -> Params:
    return params if isinstance(params, Params) else Params("setup", "?", params)


def column(frame: pd.DataFrame, params: Mapping[str, Any], key: str) -> F64:
    """The frame column named by ``params[key]`` as a float64 array.

    Raises StrategyError naming the setup/filter, the param, the missing column, the columns
    the frame has, and which indicator to declare in the config to get it.
    """
    p = _as_params(params)
    name = p[key]
    if not isinstance(name, str):
        raise p.error(f"param {key!r} must be a column name (a string), got {name!r}")
    if name not in frame.columns:
        hint = p.hints.get(key, "an indicator")
        raise p.error(
            f"param {key!r} names column {name!r}, which the frame does not have. "
            f"Columns: {', '.join(map(str, frame.columns))}. Declare {hint} in the config's "
            f"indicators so that column {name!r} exists, or set {key!r} to one of the columns."
        )
    return frame[name].to_numpy(dtype=np.float64)


def ohlcv(frame: pd.DataFrame, params: Mapping[str, Any], name: str) -> F64:
    """A fixed frame column (``close``, ``high``, ``volume`` ...) as float64, or StrategyError."""
    if name not in frame.columns:
        raise _as_params(params).error(
            f"needs the {name!r} column; the frame has: {', '.join(map(str, frame.columns))}"
        )
    return frame[name].to_numpy(dtype=np.float64)


def number(
    params: Mapping[str, Any],
    key: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> float:
    """``params[key]`` as a number checked against ``[low, high]`` (and whole if ``integer``).

    Without ``high``, a whole number is at most :data:`MAX_BARS` (a count of bars) and any
    number at most 1e15: larger values are typos, and would overflow the arrays they size.
    """
    p = _as_params(params)
    value = p[key]
    if high is None:
        high = MAX_BARS if integer else 1e15
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        try:
            ok = math.isfinite(value)
        except OverflowError:  # an int too large for a float
            ok = False
    if ok and integer:
        ok = float(value).is_integer()
    if ok and low is not None:
        ok = value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        kind = "a whole number" if integer else "a number"
        lo = "-inf" if low is None else _bound(low)
        bounds = f" in [{lo}, {_bound(high)}]"
        raise p.error(f"param {key!r} must be {kind}{bounds}, got {value!r}")
    return float(value)


def _bound(x: float) -> str:
    """A bound as the user wrote it: 1000000, 0.5, 1e+15."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e12 else f"{x:g}"


def choice(params: Mapping[str, Any], key: str, options: tuple[str, ...]) -> str:
    """``params[key]`` checked to be one of ``options``."""
    p = _as_params(params)
    value = p[key]
    if value not in options:
        raise p.error(f"param {key!r} must be one of {', '.join(options)}, got {value!r}")
    return str(value)


def previous(values: F64) -> F64:
    """``values`` shifted one bar into the past (bar t holds bar t-1; bar 0 is NaN)."""
    out = np.empty_like(values, dtype=np.float64)
    if len(values):
        out[0] = np.nan
        out[1:] = values[:-1]
    return out


def crossed_above(a: F64, b: F64 | float) -> BoolArr:
    """``a[t] > b[t] and a[t-1] <= b[t-1]``: False on bar 0 and wherever a value is NaN.

    A tie is not a cross. Window indicators of decimal prices (SMA, Bollinger middle, ...) are
    exact means rounded once, so an exact tie is an equality here (docs/indicators.md, "Ties
    are exact").
    """
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    return (a > b_arr) & (previous(a) <= previous(np.array(b_arr)))


def crossed_below(a: F64, b: F64 | float) -> BoolArr:
    """``a[t] < b[t] and a[t-1] >= b[t-1]``: False on bar 0 and wherever a value is NaN."""
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    return (a < b_arr) & (previous(a) >= previous(np.array(b_arr)))


class SetupFn(Protocol):
    """A registered setup: ``(frame, params) -> SetupSignals`` (params may omit defaults)."""

    def __call__(
        self, frame: pd.DataFrame, params: Mapping[str, Any] | None = None, /
    ) -> SetupSignals: ...


RawSetupFn = Callable[[pd.DataFrame, Mapping[str, Any]], SetupSignals]

#: Every setup, built-in or from a user's plugin file, by name.
SETUPS: Registry[SetupFn] = Registry("setup")


def _check_signals(name: str, result: object, n: int) -> SetupSignals:
    if not isinstance(result, SetupSignals):
        raise StrategyError(
            f"setup {name!r} returned {type(result).__name__}, expected SetupSignals"
        )
    for field in ("entry", "exit", "strength"):
        arr = getattr(result, field)
        if arr is not None and arr.shape != (n,):
            raise StrategyError(
                f"setup {name!r} returned {field} of shape {arr.shape}; the frame has {n} rows"
            )
    s = result.strength
    if s is not None:
        at_entry = s[result.entry]
        if np.any(~((at_entry >= 0.0) & (at_entry <= 1.0))):
            raise StrategyError(f"setup {name!r} returned a strength outside [0, 1] on an entry")
    return result


def setup(
    name: str,
    *,
    defaults: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
) -> Callable[[RawSetupFn], SetupFn]:
    """Decorator: register a setup under ``name`` in :data:`SETUPS`.

    ``defaults`` lists every param with its default (params not listed are then rejected;
    ``None`` accepts any params). ``columns`` maps the params that name frame columns to what
    the user should declare to get them (used in error messages). The registered function
    takes ``(frame, params=None)`` and validates its result.
    """

    def decorate(fn: RawSetupFn) -> SetupFn:
        @functools.wraps(fn)
        def run(frame: pd.DataFrame, params: Mapping[str, Any] | None = None, /) -> SetupSignals:
            resolved = Params.resolve("setup", name, defaults, columns, params)
            return _check_signals(name, fn(frame, resolved), len(frame))

        return register_wrapped(SETUPS, name, run, fn, defaults, columns)

    return decorate


def register_wrapped(
    registry: Registry[F],
    name: str,
    run: F,
    fn: Callable[..., Any],
    defaults: Mapping[str, Any] | None,
    columns: Mapping[str, str] | None,
) -> F:
    """Register ``run`` (the checking wrapper of ``fn``) with the metadata docs and CLIs show."""
    registry.register(
        name,
        defaults=dict(defaults or {}),
        columns=dict(columns or {}),
        summary=(fn.__doc__ or "").strip().split("\n")[0],
    )(run)
    return run


# --------------------------------------------------------------------------- built-in setups

_MA = "a moving average indicator (e.g. sma or ema) with that id"


@setup(
    "ma_cross",
    defaults={"fast": "sma_fast", "slow": "sma_slow"},
    columns={"fast": f"{_MA} (the fast one)", "slow": f"{_MA} (the slow one)"},
)
def ma_cross(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Moving-average cross: enter when fast crosses above slow, exit when it crosses below.

    Entry at t: ``fast[t] > slow[t] and fast[t-1] <= slow[t-1]``; exit at t:
    ``fast[t] < slow[t] and fast[t-1] >= slow[t-1]``. No signal where a value is NaN.
    """
    fast, slow = column(frame, params, "fast"), column(frame, params, "slow")
    return SetupSignals(crossed_above(fast, slow), crossed_below(fast, slow))


@setup(
    "rsi_mean_reversion",
    defaults={"rsi": "rsi", "lower": 30.0, "upper": 70.0, "entry": "cross", "exit_at": "upper"},
    columns={"rsi": "an RSI indicator with that id"},
)
def rsi_mean_reversion(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """RSI mean reversion: buy the recovery from oversold, sell when overbought (or back at mid).

    ``entry="cross"`` (default): enter when RSI crosses back up through ``lower``
    (``rsi[t] > lower >= rsi[t-1]``); ``entry="below"``: every bar with ``rsi < lower``.
    Exit when RSI crosses above ``upper`` (``exit_at="upper"``) or above the middle
    ``(lower + upper) / 2`` (``exit_at="mid"``).
    """
    rsi = column(frame, params, "rsi")
    lower = number(params, "lower", low=0.0, high=100.0)
    upper = number(params, "upper", low=lower, high=100.0)
    mode = choice(params, "entry", ("cross", "below"))
    exit_at = choice(params, "exit_at", ("upper", "mid"))
    entry = crossed_above(rsi, lower) if mode == "cross" else rsi < lower
    level = upper if exit_at == "upper" else (lower + upper) / 2.0
    return SetupSignals(entry, crossed_above(rsi, level))


@setup(
    "macd_trend",
    defaults={"macd": "macd_macd", "signal": "macd_signal", "require_positive": False},
    columns={
        "macd": "a MACD indicator (id 'macd' gives columns macd_macd, macd_signal, macd_hist)",
        "signal": "a MACD indicator (id 'macd' gives columns macd_macd, macd_signal, macd_hist)",
    },
)
def macd_trend(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """MACD trend: enter when MACD crosses above its signal line, exit when it crosses below.

    With ``require_positive`` the entry also needs ``macd[t] > 0`` (trend already up).
    """
    macd, signal = column(frame, params, "macd"), column(frame, params, "signal")
    entry = crossed_above(macd, signal)
    if params["require_positive"]:
        entry &= macd > 0.0
    return SetupSignals(entry, crossed_below(macd, signal))


_BB = "a Bollinger bands indicator (e.g. id 'bb' gives bb_upper, bb_middle, bb_lower)"


@setup(
    "bollinger_breakout",
    defaults={"price": "close", "upper": "bb_upper", "middle": "bb_middle"},
    columns={"price": "a price column", "upper": _BB, "middle": _BB},
)
def bollinger_breakout(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Bollinger breakout: enter when the close crosses above the upper band, exit below the middle.

    Entry: ``close[t] > upper[t] and close[t-1] <= upper[t-1]``; exit: the close crosses
    below the middle band. Strength: how far above the band, in half band widths (clipped).
    """
    price = column(frame, params, "price")
    upper, middle = column(frame, params, "upper"), column(frame, params, "middle")
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.clip((price - upper) / (upper - middle), 0.0, 1.0)
    return SetupSignals(
        crossed_above(price, upper), crossed_below(price, middle), np.nan_to_num(strength)
    )


@setup(
    "donchian_breakout",
    defaults={"period": 20, "upper": None, "lower": None, "exit_at": "lower"},
    columns={
        "upper": "a 'highest' indicator (max of high over the period) with that id",
        "lower": "a 'lowest' indicator (min of low over the period) with that id",
    },
)
def donchian_breakout(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Donchian breakout: enter on a close above the previous bar's channel top.

    The channel at t (max high / min low of the last ``period`` bars) includes bar t itself,
    so the close is compared with the channel of bar t-1: entry ``close[t] > upper[t-1]``;
    exit ``close[t] < lower[t-1]`` (``exit_at="lower"``) or below the previous middle
    (``exit_at="middle"``). ``upper``/``lower`` name channel columns; None computes them from
    high/low over ``period`` bars.
    """
    close = ohlcv(frame, params, "close")
    period = int(number(params, "period", low=1, integer=True))
    if params["upper"] is None:
        upper = pd.Series(ohlcv(frame, params, "high")).rolling(period).max().to_numpy()
    else:
        upper = column(frame, params, "upper")
    if params["lower"] is None:
        lower = pd.Series(ohlcv(frame, params, "low")).rolling(period).min().to_numpy()
    else:
        lower = column(frame, params, "lower")
    exit_at = choice(params, "exit_at", ("lower", "middle"))
    up_prev, low_prev = previous(upper), previous(lower)
    stop = low_prev if exit_at == "lower" else (up_prev + low_prev) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.clip((close - up_prev) / (up_prev - low_prev), 0.0, 1.0)
    return SetupSignals(close > up_prev, close < stop, np.nan_to_num(strength))


_HTF = "an indicator on the higher timeframe (e.g. an ema with timeframe 1h), merged as that id"


@setup(
    "mtf_trend_follower",
    defaults={
        "trend_fast": "ema_fast_1h",
        "trend_slow": "ema_slow_1h",
        "trigger": "cross",
        "fast": "sma_fast",
        "slow": "sma_slow",
        "rsi": "rsi",
        "pullback": 40.0,
        "rsi_exit": 70.0,
        "exit_on_trend_flip": True,
    },
    columns={
        "trend_fast": f"{_HTF} (or use close_1h)",
        "trend_slow": _HTF,
        "fast": f"{_MA} on the base timeframe (the fast one)",
        "slow": f"{_MA} on the base timeframe (the slow one)",
        "rsi": "an RSI indicator on the base timeframe with that id",
    },
)
def mtf_trend_follower(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Higher-timeframe trend gate on a base-timeframe trigger.

    The trend is up while ``trend_fast > trend_slow`` (two informative columns, e.g. the 1h
    EMAs, or ``close_1h`` against ``ema_1h``). The trigger is ``"cross"`` (base ``fast``
    crosses above ``slow``; its exit is the cross below) or ``"rsi_pullback"`` (RSI crosses
    back up through ``pullback``; its exit is RSI crossing above ``rsi_exit``). Entry: the
    trigger fires while the trend is up. Exit: the trigger's exit, or (with
    ``exit_on_trend_flip``) ``trend_fast`` crossing below ``trend_slow``.
    """
    trend_fast = column(frame, params, "trend_fast")
    trend_slow = column(frame, params, "trend_slow")
    trigger = choice(params, "trigger", ("cross", "rsi_pullback"))
    if trigger == "cross":
        fast, slow = column(frame, params, "fast"), column(frame, params, "slow")
        trig_entry, trig_exit = crossed_above(fast, slow), crossed_below(fast, slow)
    else:
        rsi = column(frame, params, "rsi")
        pullback = number(params, "pullback", low=0.0, high=100.0)
        trig_entry = crossed_above(rsi, pullback)
        trig_exit = crossed_above(rsi, number(params, "rsi_exit", low=0.0, high=100.0))
    exit_ = trig_exit
    if params["exit_on_trend_flip"]:
        exit_ = exit_ | crossed_below(trend_fast, trend_slow)
    return SetupSignals(trig_entry & (trend_fast > trend_slow), exit_)
