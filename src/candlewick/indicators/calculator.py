"""INDICATOR_CALCULATOR: compute exactly the indicators a config declares, on any timeframe.

A strategy declares its indicators as :class:`IndicatorSpec` values. :func:`compute_indicators`
(columns) and :func:`build_frame` (a pandas DataFrame for the setups) compute them over whole
series, for backtests; :class:`IncrementalCalculator` keeps a bounded window per timeframe and
gives the newest row as each candle closes, for live and paper trading. Both give the same
values (see the tests).

Column names: a single-output indicator is named by its spec ``id``; a multi-output one gives
``{id}_{output}`` (``bb_upper``, ``bb_middle``, ``bb_lower``). Every informative timeframe
used adds its close as ``close_{tf}``.

Informative (higher) timeframes are computed on their own candles and mapped onto the base
bars with :func:`~candlewick.core.timeframes.last_closed_index`: a 1h value is visible from the
close of the base bar during which its 1h candle closed, never earlier; NaN before the first
closed one.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from candlewick.core.timeframes import last_closed_index, timeframe_ms
from candlewick.core.types import F64, I64, OHLCV_COLUMNS, Candles
from candlewick.errors import DataError, IndicatorError
from candlewick.indicators.exact import average
from candlewick.indicators.library import IndicatorInfo, ParamValue, indicator_info

if TYPE_CHECKING:
    import pandas as pd

#: Price series a single-input indicator can read instead of its default input.
SOURCES = ("open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4")
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FRAME_BASE = ("timestamp", *OHLCV_COLUMNS)


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator a strategy declares.

    ``id`` names its column(s); ``name`` is the registered indicator; ``params`` overrides its
    defaults; ``timeframe`` is an informative timeframe (None: the base timeframe); ``source``
    replaces the input of a single-input indicator (one of :data:`SOURCES`, e.g. "hl2").
    """

    id: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    timeframe: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True, slots=True)
class _Plan:
    """A validated spec: its indicator, resolved parameters and output columns."""

    spec: IndicatorSpec
    info: IndicatorInfo
    params: dict[str, ParamValue]
    timeframe: str | None
    columns: tuple[str, ...]

    def window(self, bar_ms: int) -> int:
        return self.info.window(self.params, bar_ms)


def _plan_one(spec: IndicatorSpec, base_timeframe: str) -> _Plan:
    where = f"indicator spec {spec.id!r}"
    if not _ID.match(spec.id) or spec.id in _FRAME_BASE:
        raise IndicatorError(
            f"{where}: the id must be a name of letters, digits and _ (not starting with a digit) "
            f"and not one of {', '.join(_FRAME_BASE)}; rename it, e.g. 'rsi_14'"
        )
    try:
        info = indicator_info(spec.name)
        params = info.resolve(spec.params)
    except IndicatorError as exc:
        raise IndicatorError(f"{where}: {exc}") from None
    if spec.source is not None and (spec.source not in SOURCES or len(info.inputs) != 1):
        raise IndicatorError(
            f"{where}: source {spec.source!r} is not possible: source must be one of "
            f"{', '.join(SOURCES)} and applies only to single-input indicators "
            f"({spec.name!r} takes {', '.join(info.inputs)}); remove source or change it"
        )
    timeframe = spec.timeframe
    if timeframe is not None:
        try:
            longer = timeframe_ms(timeframe) >= timeframe_ms(base_timeframe)
        except ValueError as exc:
            raise IndicatorError(f"{where}: {exc}") from None
        if not longer:
            raise IndicatorError(
                f"{where}: informative timeframe {timeframe} is shorter than the base "
                f"timeframe {base_timeframe}; use a longer timeframe or drop timeframe"
            )
        if timeframe_ms(timeframe) == timeframe_ms(base_timeframe):
            timeframe = None
    outputs = info.outputs
    columns = (spec.id,) if len(outputs) == 1 else tuple(f"{spec.id}_{o}" for o in outputs)
    return _Plan(spec, info, params, timeframe, columns)


def _plan(specs: Sequence[IndicatorSpec], base_timeframe: str) -> list[_Plan]:
    """Validate ``specs`` (names, parameters, ids, sources, timeframes) into plans."""
    plans = [_plan_one(spec, base_timeframe) for spec in specs]
    owner: dict[str, str] = dict.fromkeys(_FRAME_BASE, "the candles")
    owner.update({f"close_{p.timeframe}": "the informative close" for p in plans if p.timeframe})
    for p in plans:
        for column in p.columns:
            if column in owner:
                raise IndicatorError(
                    f"indicator spec {p.spec.id!r}: column {column!r} is already produced by "
                    f"{owner[column]}; give every indicator spec a distinct id"
                )
            owner[column] = f"spec {p.spec.id!r}"
    return plans


def _informative_columns(plans: Sequence[_Plan]) -> list[str]:
    return list(dict.fromkeys(f"close_{p.timeframe}" for p in plans if p.timeframe))


def _check_informative(plans: Sequence[_Plan], informative: Mapping[str, Candles]) -> None:
    for p in plans:
        if p.timeframe is None:
            continue
        if p.timeframe not in informative:
            given = ", ".join(sorted(informative)) or "none"
            raise IndicatorError(
                f"indicator spec {p.spec.id!r} needs {p.timeframe} candles, which were not "
                f"supplied (informative timeframes given: {given}); pass them in informative"
            )
        if informative[p.timeframe].timeframe != p.timeframe:
            raise IndicatorError(
                f"informative[{p.timeframe!r}] holds {informative[p.timeframe].timeframe} "
                f"candles; key each informative series by its own timeframe"
            )


def _source(candles: Candles, source: str) -> F64:
    """A price column, or a derived price (hl2, hlc3, ohlc4) as the exact mean, rounded once."""
    derived = {"hl2": "high low", "hlc3": "high low close", "ohlc4": "open high low close"}
    if source in derived:
        return average([candles.column(name) for name in derived[source].split()])
    return candles.column(source)


def _inputs_of(plan: _Plan, candles: Candles) -> list[Any]:
    """The input arrays of ``plan`` read from ``candles`` (contiguous, as TA-Lib needs)."""
    return [
        np.ascontiguousarray(candles.timestamp, dtype=np.int64)
        if name == "timestamp"
        else np.ascontiguousarray(_source(candles, plan.spec.source or name), dtype=np.float64)
        for name in plan.info.inputs
    ]


def _run(plan: _Plan, candles: Candles) -> tuple[F64, ...]:
    """Outputs of ``plan`` over ``candles`` (all bars)."""
    outputs = plan.info.compute(_inputs_of(plan, candles), plan.params)
    if any(len(o) != len(candles) for o in outputs):
        raise IndicatorError(
            f"indicator {plan.info.name!r} returned arrays of another length than its "
            f"{len(candles)} input bars; an indicator must return one value per bar"
        )
    return outputs


def _take(values: F64, index: I64) -> F64:
    """``values[index]`` with NaN where ``index`` is -1 (nothing closed yet)."""
    out: F64 = np.full(len(index), np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


def compute_indicators(
    base: Candles,
    specs: Sequence[IndicatorSpec],
    informative: Mapping[str, Candles] | None = None,
) -> dict[str, F64]:
    """Every column the ``specs`` declare, one value per base bar, in spec order.

    ``informative`` maps a timeframe ("1h") to its candles, for the specs that name one; their
    values are aligned on the base bars without lookahead and ``close_{tf}`` is added.
    Raises IndicatorError for an unknown indicator, a bad parameter, a duplicate id or an
    informative timeframe that was not supplied.
    """
    plans = _plan(specs, base.timeframe)
    given = dict(informative or {})
    _check_informative(plans, given)
    index = {
        tf: last_closed_index(base.timestamp, base.timeframe, given[tf].timestamp, tf)
        for tf in dict.fromkeys(p.timeframe for p in plans if p.timeframe)
    }
    columns: dict[str, F64] = {}
    for p in plans:
        candles = base if p.timeframe is None else given[p.timeframe]
        for column, values in zip(p.columns, _run(p, candles), strict=True):
            columns[column] = values if p.timeframe is None else _take(values, index[p.timeframe])
    for tf, idx in index.items():
        columns[f"close_{tf}"] = _take(given[tf].close, idx)
    return columns


def build_frame(
    base: Candles,
    specs: Sequence[IndicatorSpec],
    informative: Mapping[str, Candles] | None = None,
) -> pd.DataFrame:
    """The frame setups read: timestamp, open, high, low, close, volume, then the indicators.

    The indicator columns are those of :func:`compute_indicators` (same names, same order).
    The frame holds its own copy of the candles (setups may change it freely). Its column
    labels are an object Index of str: a pandas 3 string Index is backed by pyarrow, whose
    pandas bridge costs about 7 MiB in a process that has no other use for it.
    """
    import pandas as pd

    data: dict[str, Any] = {"timestamp": base.timestamp}
    data.update({name: base.column(name) for name in OHLCV_COLUMNS})
    data.update(compute_indicators(base, specs, informative))
    # Keyed by position, so that pandas builds no string Index of the labels.
    frame = pd.DataFrame(dict(enumerate(data.values())))
    frame.columns = pd.Index(list(data), dtype=object)
    return frame


class _Track:
    """The bounded history of one timeframe and the newest rows of its indicators."""

    def __init__(self, plans: Sequence[_Plan], bar_ms: int, every_row: bool) -> None:
        self.plans = list(plans)
        self.windows = [p.window(bar_ms) for p in self.plans]
        self.capacity = max([*self.windows, 2])
        # Informative tracks keep a row per bar from the one visible at the newest base close
        # on (later ones were handed over before they closed); the base track keeps one.
        self.every_row = every_row
        self.rows: deque[tuple[int, dict[str, float]]] = deque(maxlen=None if every_row else 1)
        self.states: dict[int, tuple[float, ...]] = {}
        self.candles: Candles | None = None
        self.seen = 0

    def seed(self, candles: Candles) -> None:
        """Start from ``candles`` (the whole history): full computation, exact."""
        self.rows.clear()
        self.states.clear()
        self.seen = len(candles)
        self.candles = candles.slice(max(0, len(candles) - self.capacity), len(candles))
        outputs = [_run(p, candles) for p in self.plans]
        for i, p in enumerate(self.plans):
            if p.info.memory == "cumulative" and len(candles):
                self.states[i] = tuple(float(o[-1]) for o in outputs[i])
        for k in range(0 if self.every_row else max(0, len(candles) - 1), len(candles)):
            row = {"close": float(candles.close[k])}
            for p, outs in zip(self.plans, outputs, strict=True):
                row.update({c: float(o[k]) for c, o in zip(p.columns, outs, strict=True)})
            self.rows.append((int(candles.timestamp[k]), row))

    def append(self, new: Candles) -> None:
        """Add closed bars; keep the row of each (informative) or of the newest only (base)."""
        old = self.candles
        if old is not None and len(old) and len(new) and new.timestamp[0] <= old.timestamp[-1]:
            raise DataError(
                f"new {new.timeframe} candle at {int(new.timestamp[0])} is not after the last "
                f"one seen ({int(old.timestamp[-1])}); pass each closed candle once, in order"
            )
        if len(new) > 1 and not bool(np.all(np.diff(new.timestamp) > 0)):
            raise DataError(f"new {new.timeframe} candles are not in increasing time order")
        for k in range(len(new)):
            self._push(new.slice(k, k + 1))
            if self.every_row or k == len(new) - 1:
                self.rows.append(self._row())

    def _push(self, bar: Candles) -> None:
        old = self.candles
        joined = bar if old is None else _concat(old, bar)
        self.candles = joined.slice(max(0, len(joined) - self.capacity), len(joined))
        self.seen += 1
        for i, p in enumerate(self.plans):
            if p.info.memory != "cumulative":
                continue
            state = self.states.get(i)
            n = len(self.candles)
            window = self.candles.slice(max(0, n - self.windows[i]), n)
            if state is None or len(window) < self.windows[i] or any(np.isnan(state)):
                if self.seen > len(self.candles):
                    continue  # history trimmed before the state existed: stays unknown (NaN)
                self.states[i] = tuple(float(o[-1]) for o in _run(p, self.candles))
            else:
                inputs = _inputs_of(p, window)
                assert p.info.step is not None
                self.states[i] = p.info.step(state, *inputs, **p.params)

    def _row(self) -> tuple[int, dict[str, float]]:
        candles = self.candles
        assert candles is not None and len(candles)
        n = len(candles)
        row = {"close": float(candles.close[-1])}
        for i, p in enumerate(self.plans):
            if p.info.memory == "cumulative":
                values = self.states.get(i, (np.nan,) * len(p.columns))
            else:
                tail = candles.slice(max(0, n - self.windows[i]), n)
                values = tuple(float(o[-1]) for o in _run(p, tail))
            row.update(zip(p.columns, values, strict=True))
        return int(candles.timestamp[-1]), row


def _concat(a: Candles, b: Candles) -> Candles:
    return Candles(
        a.exchange,
        a.pair,
        a.timeframe,
        *(np.concatenate((getattr(a, f), getattr(b, f))) for f in ("timestamp", *OHLCV_COLUMNS)),
    )


class IncrementalCalculator:
    """Live indicators: seeded with history, then one update per closed base candle.

    Each timeframe keeps only the bars its indicators need (:attr:`history`): finite-memory
    indicators are recomputed on their window (equal to the full history bit for bit),
    recursive ones on a window long enough to equal it to float precision, cumulative ones
    carry their state. The newest row has the same keys as the indicator columns of
    :func:`build_frame`; informative values follow the same no-lookahead rule.
    """

    def __init__(self, specs: Sequence[IndicatorSpec], base_timeframe: str) -> None:
        try:
            self._base_ms = timeframe_ms(base_timeframe)
        except ValueError as exc:
            raise IndicatorError(str(exc)) from None
        self._base_tf = base_timeframe
        self._plans = _plan(specs, base_timeframe)
        self._base = _Track([p for p in self._plans if p.timeframe is None], self._base_ms, False)
        self._info: dict[str, _Track] = {}
        for tf in dict.fromkeys(p.timeframe for p in self._plans if p.timeframe):
            group = [p for p in self._plans if p.timeframe == tf]
            self._info[tf] = _Track(group, timeframe_ms(tf), True)
        self.columns: tuple[str, ...] = (
            *(c for p in self._plans for c in p.columns),
            *_informative_columns(self._plans),
        )

    @property
    def history(self) -> dict[str, int]:
        """Bars of history each timeframe needs for exact values: seed with at least these."""
        needed = {self._base_tf: max(self._base.windows, default=1)}
        needed.update({tf: max(t.windows) for tf, t in self._info.items()})
        return needed

    def seed(
        self, base: Candles, informative: Mapping[str, Candles] | None = None
    ) -> dict[str, float]:
        """Start from history (as long as you have: values are exact from the first bar)."""
        self._check_base(base)
        given = dict(informative or {})
        _check_informative(self._plans, given)
        self._base.seed(base)
        for tf, track in self._info.items():
            track.seed(given[tf])
        return self._newest()

    def update(
        self, base: Candles, informative: Mapping[str, Candles] | None = None
    ) -> dict[str, float]:
        """Add newly closed candles (base, and informative ones that closed); the newest row.

        Informative candles must be closed; one that is not yet closed at the newest base
        close is held back anyway (the same rule as :func:`compute_indicators`).
        """
        self._check_base(base)
        for tf, candles in (informative or {}).items():
            if tf in self._info:
                if candles.timeframe != tf:
                    raise IndicatorError(
                        f"informative[{tf!r}] holds {candles.timeframe} candles; key each "
                        "informative series by its own timeframe"
                    )
                self._info[tf].append(candles)
        self._base.append(base)
        return self._newest()

    def _check_base(self, base: Candles) -> None:
        if base.timeframe != self._base_tf:
            raise IndicatorError(
                f"base candles are {base.timeframe} but this calculator was built for "
                f"{self._base_tf}; build one per base timeframe"
            )

    def _newest(self) -> dict[str, float]:
        row: dict[str, float] = dict.fromkeys(self.columns, np.nan)
        if not self._base.rows:
            return row
        base_ts, base_row = self._base.rows[-1]
        row.update({k: v for k, v in base_row.items() if k != "close"})
        decision = base_ts + self._base_ms
        for tf, track in self._info.items():
            tf_ms = timeframe_ms(tf)
            rows = track.rows
            while len(rows) > 1 and rows[1][0] + tf_ms <= decision:
                rows.popleft()  # a newer row is visible: this one is never needed again
            if rows and rows[0][0] + tf_ms <= decision:
                visible = rows[0][1]
                row.update({k: v for k, v in visible.items() if k != "close"})
                row[f"close_{tf}"] = visible["close"]
        return row
