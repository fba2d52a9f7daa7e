"""INDICATOR_FUNCTIONS: technical indicators as plain functions over float64 arrays.

Every indicator is registered in :data:`INDICATORS` with the :func:`indicator` decorator, which
records what the calculator needs to know about it (:class:`IndicatorInfo`): its input columns,
its output names, its parameters (defaults and types come from the function's keyword-only
arguments), its warm-up and how much history its newest value depends on.

Conventions, for every indicator:

* Inputs are passed positionally in the order of ``inputs``; parameters by keyword.
* Each output has the length of the inputs and is NaN for exactly the first ``lookback`` bars
  (on data without NaN); every output of a multi-output indicator shares that warm-up.
* The value at bar ``t`` uses bars ``<= t`` only (no lookahead), so computing on ``data[:t+1]``
  gives the same value at ``t`` as computing on all the data.
* ``memory`` says how the newest value depends on the past, which is what the incremental
  calculator relies on: ``"finite"``: only the last ``window`` bars, bit for bit;
  ``"recursive"``: all bars with exponentially fading weight (EMA-like) or a path-dependent
  state (SAR, Supertrend); ``window`` bars reproduce the full-history value to float precision;
  ``"cumulative"``: all bars with full weight (OBV); ``step`` carries the state one bar on.

Window sums are exact sums of the decimals the prices stand for, rounded once
(:func:`rolling_sum`, :mod:`candlewick.indicators.exact`), not a running float total as
TA-Lib keeps: a running total drifts by a few ULP with the length of the history, which would
make a live value depend on when the bot started, and float noise would decide exact ties.
TA-Lib backs the recursive indicators and the exact window ones (MAX, MIN, WILLR, ROC); the
others are checked against TA-Lib in tests.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Literal, TypeVar

import numpy as np

from candlewick.core.registry import Registry
from candlewick.core.types import F64
from candlewick.errors import IndicatorError
from candlewick.indicators import talib_lazy as talib
from candlewick.indicators.exact import window_sum

ParamValue = int | float | str | bool
Params = Mapping[str, ParamValue]
Memory = Literal["finite", "recursive", "cumulative"]
IndicatorFunc = Callable[..., Any]
IF = TypeVar("IF", bound=IndicatorFunc)
#: Carries a cumulative indicator one bar on: (outputs at the previous bar, the last
#: ``window`` bars of each input, parameters) -> outputs at the newest bar.
StepFunc = Callable[..., tuple[float, ...]]

INPUT_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
MEMORIES = ("finite", "recursive", "cumulative")

INDICATORS: Registry[IndicatorFunc] = Registry("indicator")


#: Upper bounds of int and float parameters whose ``Param`` sets no ``max``: 100,000 bars is
#: about a year of 5m candles; a longer period, or a float above a million, is a typo.
MAX_INT_PARAM = 100_000
MAX_FLOAT_PARAM = 1e6


@dataclass(frozen=True, slots=True)
class Param:
    """Constraint on one parameter; its default and type come from the function signature.

    Without an explicit ``Param``, an int parameter must be >= 1 and a float one > 0. Without
    a ``max``, ints are at most :data:`MAX_INT_PARAM` and floats :data:`MAX_FLOAT_PARAM`.
    """

    min: float | None = None
    max: float | None = None
    above: float | None = None
    choices: tuple[str, ...] = ()

    def violation(self, value: ParamValue) -> str | None:
        """Why ``value`` breaks the constraint, or None when it does not."""
        if self.choices and value not in self.choices:
            return f"one of {', '.join(repr(c) for c in self.choices)}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if self.min is not None and value < self.min:
            return f">= {self.min:g}"
        if self.above is not None and value <= self.above:
            return f"> {self.above:g}"
        ceiling = self.max
        if ceiling is None:  # no explicit bound: a sane one (a period of 10**30 is a typo)
            ceiling = MAX_INT_PARAM if isinstance(value, int) else MAX_FLOAT_PARAM
        if value > ceiling:
            return f"<= {ceiling:g}"
        return None


_DEFAULT_PARAM = {int: Param(min=1), float: Param(above=0.0)}
_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


@dataclass(frozen=True, slots=True)
class IndicatorInfo:
    """What the registry knows about one indicator (see the module docstring)."""

    name: str
    func: IndicatorFunc
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    defaults: Mapping[str, ParamValue]
    params: Mapping[str, Param]
    memory: Memory
    description: str
    lookback_fn: Callable[[Params], int] = field(repr=False)
    settle_fn: Callable[[Params], int] | None = field(default=None, repr=False)
    window_fn: Callable[[Params, int], int] | None = field(default=None, repr=False)
    step: StepFunc | None = field(default=None, repr=False)
    check: Callable[[Params], str | None] | None = field(default=None, repr=False)

    def lookback(self, params: Params) -> int:
        """Warm-up: how many leading bars are NaN, for resolved ``params``."""
        return int(self.lookback_fn(params))

    def window(self, params: Params, bar_ms: int) -> int:
        """Bars of history the newest value needs (bars of ``bar_ms`` milliseconds)."""
        if self.window_fn is not None:
            return max(1, int(self.window_fn(params, bar_ms)))
        settle = 0 if self.settle_fn is None else int(self.settle_fn(params))
        return self.lookback(params) + 1 + settle

    def resolve(self, params: Mapping[str, object] | None = None) -> dict[str, ParamValue]:
        """Defaults overlaid with ``params``, validated; IndicatorError naming the fix otherwise."""
        given = dict(params or {})
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            known = ", ".join(f"{k} (default {v!r})" for k, v in self.defaults.items()) or "none"
            raise IndicatorError(
                f"indicator {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are: {known}"
            )
        resolved = dict(self.defaults)
        for key, value in given.items():
            resolved[key] = self._coerce(key, value)
        if self.check is not None:
            problem = self.check(resolved)
            if problem:
                raise IndicatorError(f"indicator {self.name!r}: {problem}")
        return resolved

    def _coerce(self, key: str, value: object) -> ParamValue:
        default = self.defaults[key]
        kind = type(default)
        coerced: ParamValue | None = None
        if kind is bool:
            coerced = value if isinstance(value, bool) else None
        elif kind is int:
            ok = isinstance(value, Integral) and not isinstance(value, bool)
            coerced = int(value) if ok else None  # type: ignore[call-overload]
        elif kind is float:
            ok = isinstance(value, Real) and not isinstance(value, bool)
            coerced = float(value) if ok and math.isfinite(value) else None  # type: ignore[arg-type]
        elif isinstance(value, str):
            coerced = value
        constraint = self.params[key]
        problem = _TYPE_WORDS[kind] if coerced is None else constraint.violation(coerced)
        if problem is not None:
            word = _TYPE_WORDS[kind]
            must = problem if problem == word else f"{word} {problem}"
            raise IndicatorError(
                f"indicator {self.name!r}: parameter {key!r} must be {must}, got {value!r}; "
                f"fix: set {key} to a valid value (default {default!r})"
            )
        assert coerced is not None
        return coerced

    def compute(self, inputs: Sequence[Any], params: Params) -> tuple[F64, ...]:
        """Run the indicator on input arrays (in ``inputs`` order) with resolved ``params``."""
        result = self.func(*inputs, **params)
        outputs: tuple[F64, ...] = result if isinstance(result, tuple) else (result,)
        if len(outputs) != len(self.outputs):
            raise IndicatorError(
                f"indicator {self.name!r} returned {len(outputs)} arrays, declared "
                f"{len(self.outputs)} outputs ({', '.join(self.outputs)}); fix the function"
            )
        return outputs


def indicator(
    name: str,
    *,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    lookback: Callable[[Params], int],
    memory: Memory = "finite",
    settle: Callable[[Params], int] | None = None,
    window: Callable[[Params, int], int] | None = None,
    step: StepFunc | None = None,
    params: Mapping[str, Param] | None = None,
    check: Callable[[Params], str | None] | None = None,
) -> Callable[[IF], IF]:
    """Decorator registering an indicator function in :data:`INDICATORS`.

    The function takes one positional array per name in ``inputs`` (same names, same order)
    and keyword-only parameters with defaults (int, float, str or bool); it returns one array,
    or a tuple with one array per name in ``outputs``. ``lookback(params)`` is its warm-up.
    The newest value needs ``lookback + 1`` bars, plus ``settle(params)`` bars for a recursive
    indicator (required: bars after which its seed no longer shows), or ``window(params,
    bar_ms)`` bars when given. ``step`` is required for a cumulative indicator. ``params``
    tightens the default constraints; ``check(params)`` returns a message when a combination
    of parameters is invalid.
    """

    def decorate(func: IF) -> IF:
        bad_inputs = [i for i in inputs if i not in INPUT_COLUMNS]
        if bad_inputs or not inputs or not outputs or memory not in MEMORIES:
            raise IndicatorError(
                f"indicator {name!r}: inputs must be some of {', '.join(INPUT_COLUMNS)}, "
                f"outputs non-empty, memory one of {', '.join(MEMORIES)}"
            )
        if memory == "recursive" and settle is None and window is None:
            raise IndicatorError(f"indicator {name!r}: a recursive indicator needs settle=")
        if memory == "cumulative" and step is None:
            raise IndicatorError(f"indicator {name!r}: a cumulative indicator needs step=")
        signature = inspect.signature(func).parameters.values()
        positional = tuple(p.name for p in signature if p.kind is p.POSITIONAL_OR_KEYWORD)
        keyword = {p.name: p.default for p in signature if p.kind is p.KEYWORD_ONLY}
        if positional != inputs or any(type(v) not in _TYPE_WORDS for v in keyword.values()):
            raise IndicatorError(
                f"indicator {name!r}: the function must take the inputs {inputs} positionally "
                "and only keyword-only parameters with int/float/str/bool defaults"
            )
        constraints = {
            key: (params or {}).get(key, _DEFAULT_PARAM.get(type(default), Param()))
            for key, default in keyword.items()
        }
        doc = (inspect.getdoc(func) or "").splitlines()
        info = IndicatorInfo(
            name=name,
            func=func,
            inputs=inputs,
            outputs=outputs,
            defaults=keyword,
            params=constraints,
            memory=memory,
            description=doc[0] if doc else "",
            lookback_fn=lookback,
            settle_fn=settle,
            window_fn=window,
            step=step,
            check=check,
        )
        INDICATORS.register(name, info=info)(func)
        return func

    return decorate


def indicator_info(name: str) -> IndicatorInfo:
    """The metadata of the indicator registered as ``name``; IndicatorError if unknown."""
    try:
        entry = INDICATORS.entry(name)
    except KeyError as exc:
        raise IndicatorError(str(exc.args[0])) from None
    info: IndicatorInfo = entry.meta["info"]
    return info


# ---- settle lengths of recursive indicators --------------------------------------------------
# After k bars an exponential filter keeps (1 - alpha)**k of its seed; k = 45 / alpha brings that
# below 1e-19, far under one ULP of the value, so a window of that many bars reproduces the
# full-history value (in practice bit for bit: see tests/unit/test_indicator_calculator.py).


def ema_settle(period: float) -> int:
    """Bars after which an EMA of ``period`` (alpha = 2 / (period + 1)) forgets its seed."""
    return math.ceil(22.5 * (period + 1))


def wilder_settle(period: float) -> int:
    """Bars after which Wilder's smoothing of ``period`` (alpha = 1 / period) forgets its seed."""
    return math.ceil(45 * period)


def warmup_period(p: Params) -> int:
    """Warm-up ``period``: a window of ``period`` bars plus the bar before it."""
    return int(p["period"])


def warmup_window(p: Params) -> int:
    """Warm-up ``period - 1``: a plain window of ``period`` bars."""
    return int(p["period"]) - 1


# ---- array building blocks (usable by user indicators) --------------------------------------


def nans(n: int) -> F64:
    """An array of ``n`` NaN."""
    return np.full(n, np.nan, dtype=np.float64)


def rolling_sum(x: F64, period: int) -> F64:
    """Sum of the last ``period`` values, NaN for the first ``period - 1`` bars.

    Exact on decimal prices and amounts, rounded once (see :mod:`candlewick.indicators.exact`);
    the value at ``t`` is a function of that window alone (bit for bit), whatever came before.
    """
    return window_sum(x, period)


def rolling_mean(x: F64, period: int) -> F64:
    """Simple moving average over ``period`` bars: the exact mean, rounded once.

    Two means that are equal as decimals are equal as floats, so ties are ties (see
    :mod:`candlewick.indicators.exact`).
    """
    return window_sum(x, period, period)


def rolling_mean_std(x: F64, period: int) -> tuple[F64, F64]:
    """Rolling mean and population standard deviation (two-pass in each window)."""
    mean = rolling_mean(x, period)
    std = nans(len(x))
    m = len(x) - period + 1
    if m > 0:
        centre = mean[period - 1 :]
        acc = (x[:m] - centre) ** 2
        for j in range(1, period):
            acc += (x[j : j + m] - centre) ** 2
        std[period - 1 :] = np.sqrt(acc / period)
    return mean, std


def rolling_max(x: F64, period: int) -> F64:
    """Highest of the last ``period`` values (TA-Lib MAX)."""
    out: F64 = np.array(x, dtype=np.float64) if period == 1 else talib.MAX(x, timeperiod=period)
    return out


def rolling_min(x: F64, period: int) -> F64:
    """Lowest of the last ``period`` values (TA-Lib MIN)."""
    out: F64 = np.array(x, dtype=np.float64) if period == 1 else talib.MIN(x, timeperiod=period)
    return out


def shift(x: F64, bars: int) -> F64:
    """``x`` delayed by ``bars`` >= 0: the value at ``t`` is ``x[t - bars]`` (NaN before)."""
    out = nans(len(x))
    if bars < len(x):
        out[bars:] = x[: len(x) - bars]
    return out


def mask_warmup(lookback: int, *arrays: F64) -> None:
    """Set the first ``lookback`` values of every array to NaN, in place (a shared warm-up)."""
    for a in arrays:
        a[:lookback] = np.nan


def _f(x: Any) -> F64:
    out: F64 = np.asarray(x, dtype=np.float64)
    return out


# ---- TA-Lib-backed indicators, and the SMA -------------------------------------------------

_HLC = ("high", "low", "close")


@indicator("sma", inputs=("close",), outputs=("sma",), lookback=warmup_window)
def sma(close: F64, *, period: int = 20) -> F64:
    """Simple moving average of the last ``period`` bars."""
    return rolling_mean(close, period)


@indicator("volume_sma", inputs=("volume",), outputs=("volume_sma",), lookback=warmup_window)
def volume_sma(volume: F64, *, period: int = 20) -> F64:
    """Simple moving average of volume."""
    return rolling_mean(volume, period)


@indicator("ema", inputs=("close",), outputs=("ema",), lookback=warmup_window,
           memory="recursive", settle=lambda p: ema_settle(warmup_period(p)))  # fmt: skip
def ema(close: F64, *, period: int = 20) -> F64:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the first SMA (TA-Lib)."""
    return _f(talib.EMA(close, timeperiod=period))


@indicator("rsi", inputs=("close",), outputs=("rsi",), lookback=warmup_period,
           memory="recursive", settle=lambda p: wilder_settle(warmup_period(p)),
           params={"period": Param(min=2)})  # fmt: skip
def rsi(close: F64, *, period: int = 14) -> F64:
    """Relative strength index with Wilder's smoothing (TA-Lib), 0..100."""
    return _f(talib.RSI(close, timeperiod=period))


def _macd_check(p: Params) -> str | None:
    return None if int(p["fast"]) < int(p["slow"]) else "fast must be < slow (e.g. 12 and 26)"


@indicator("macd", inputs=("close",), outputs=("macd", "signal", "hist"),
           lookback=lambda p: int(p["slow"]) + int(p["signal"]) - 2, memory="recursive",
           settle=lambda p: ema_settle(int(p["slow"])) + ema_settle(int(p["signal"])),
           params={"fast": Param(min=2), "slow": Param(min=2)}, check=_macd_check)  # fmt: skip
def macd(close: F64, *, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[F64, F64, F64]:
    """MACD line (fast EMA - slow EMA), its signal EMA and the histogram (TA-Lib)."""
    line, sig, hist = talib.MACD(close, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    return _f(line), _f(sig), _f(hist)


@indicator("roc", inputs=("close",), outputs=("roc",), lookback=warmup_period)
def roc(close: F64, *, period: int = 10) -> F64:
    """Rate of change in percent over ``period`` bars (TA-Lib ROC)."""
    return _f(talib.ROC(close, timeperiod=period))


@indicator("highest", inputs=("high",), outputs=("highest",), lookback=warmup_window)
def highest(high: F64, *, period: int = 20) -> F64:
    """Highest value of the last ``period`` bars (default input: high; TA-Lib MAX)."""
    return rolling_max(high, period)


@indicator("lowest", inputs=("low",), outputs=("lowest",), lookback=warmup_window)
def lowest(low: F64, *, period: int = 20) -> F64:
    """Lowest value of the last ``period`` bars (default input: low; TA-Lib MIN)."""
    return rolling_min(low, period)


@indicator("atr", inputs=_HLC, outputs=("atr",), lookback=warmup_period,
           memory="recursive", settle=lambda p: wilder_settle(warmup_period(p)))  # fmt: skip
def atr(high: F64, low: F64, close: F64, *, period: int = 14) -> F64:
    """Average true range with Wilder's smoothing (TA-Lib)."""
    return _f(talib.ATR(high, low, close, timeperiod=period))


@indicator("adx", inputs=_HLC, outputs=("adx",), lookback=lambda p: 2 * warmup_period(p) - 1,
           memory="recursive", settle=lambda p: 2 * wilder_settle(warmup_period(p)),
           params={"period": Param(min=2)})  # fmt: skip
def adx(high: F64, low: F64, close: F64, *, period: int = 14) -> F64:
    """Average directional index, trend strength 0..100 (TA-Lib)."""
    return _f(talib.ADX(high, low, close, timeperiod=period))


@indicator("dmi", inputs=_HLC, outputs=("plus_di", "minus_di"), lookback=warmup_period,
           memory="recursive", settle=lambda p: wilder_settle(warmup_period(p)))  # fmt: skip
def dmi(high: F64, low: F64, close: F64, *, period: int = 14) -> tuple[F64, F64]:
    """Directional movement: +DI and -DI (TA-Lib PLUS_DI / MINUS_DI)."""
    plus = _f(talib.PLUS_DI(high, low, close, timeperiod=period))
    return plus, _f(talib.MINUS_DI(high, low, close, timeperiod=period))


@indicator("willr", inputs=_HLC, outputs=("willr",), lookback=warmup_window,
           params={"period": Param(min=2)})  # fmt: skip
def willr(high: F64, low: F64, close: F64, *, period: int = 14) -> F64:
    """Williams %R, -100..0 (TA-Lib)."""
    return _f(talib.WILLR(high, low, close, timeperiod=period))


def _sar_check(p: Params) -> str | None:
    ok = float(p["acceleration"]) <= float(p["maximum"])
    return None if ok else "acceleration must be <= maximum (e.g. 0.02 and 0.2)"


# Path-dependent: two runs agree from the first reversal they share. On 40,000 BTC 5m bars a
# 460-bar window already matched the full history everywhere; 1000 leaves a margin.
@indicator("sar", inputs=("high", "low"), outputs=("sar",), lookback=lambda p: 1,
           memory="recursive", settle=lambda p: 1000, check=_sar_check)  # fmt: skip
def sar(high: F64, low: F64, *, acceleration: float = 0.02, maximum: float = 0.2) -> F64:
    """Parabolic SAR (TA-Lib)."""
    return _f(talib.SAR(high, low, acceleration=acceleration, maximum=maximum))


def _obv_step(prev: tuple[float, ...], close: F64, volume: F64) -> tuple[float, ...]:
    # TA-Lib's arithmetic, one bar on: add the volume on an up close, subtract on a down close.
    value = prev[0]
    if close[-1] > close[-2]:
        value += float(volume[-1])
    elif close[-1] < close[-2]:
        value -= float(volume[-1])
    return (value,)


@indicator("obv", inputs=("close", "volume"), outputs=("obv",), lookback=lambda p: 0,
           memory="cumulative", window=lambda p, _: 2, step=_obv_step)  # fmt: skip
def obv(close: F64, volume: F64) -> F64:
    """On-balance volume from the first bar of the data (TA-Lib); compare changes, not levels."""
    return _f(talib.OBV(close, volume))


__all__ = [
    "INDICATORS",
    "IndicatorFunc",
    "IndicatorInfo",
    "Memory",
    "Param",
    "ParamValue",
    "Params",
    "ema_settle",
    "indicator",
    "indicator_info",
    "mask_warmup",
    "nans",
    "rolling_max",
    "rolling_mean",
    "rolling_mean_std",
    "rolling_min",
    "rolling_sum",
    "shift",
    "warmup_period",
    "warmup_window",
    "wilder_settle",
]
