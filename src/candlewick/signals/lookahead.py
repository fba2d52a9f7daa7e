"""Lookahead check: do signals change when the future is cut off?

A decision at the close of bar t may use bars ``[0, t]`` only. So running the WHOLE pipeline
(indicators, informative merges, setups, filters) on ``candles[:end]`` must reproduce the
full-history signals on every bar before ``end``. :func:`check_lookahead` runs the pipeline on
a bounded set of truncated histories and reports every bar whose signal differs: a setup
reading ``shift(-1)``, a centred window, a higher-timeframe candle merged before it closed, or
a filter that reads the future and so only *removes* entries.

Cut points (:func:`cut_points`), each kind bounded, every one a full pipeline run:

* ``signal``: right after full-history entry and exit bars ``b`` (``end = b + 1``), where a
  signal born of the future would vanish;
* ``rejected``: right after bars where a setup proposed an entry or exit that the full run
  dropped (a filter rejected it, an exit on the same bar, ``combine: all``...), where an entry
  removed by the future would reappear; the decision log (:class:`Signals`) gives them;
* ``random``: bars drawn with a seeded generator (reproducible: the seed is reported), for
  the bars where a truncated run would have signalled and the full run did not, which cannot
  be known up front;
* ``checkpoint``: evenly spaced ends.

A cut that is of several kinds counts once, as the first kind in that order. Finally the
full history is computed once more (``repeat``): a pipeline whose output depends on how often
it ran (state kept between calls, unseeded randomness) shows differences there.

``signals_upto(end)`` must compute from fresh state on every call: the caller re-creates
whatever a user's plugin could keep between calls (``candlewick.modes.backtest`` re-executes
the plugin modules per call), otherwise a plugin that caches full-history values would pass.
Used by ``candlewick backtest --check-lookahead``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from candlewick.core.types import BoolArr
from candlewick.errors import StrategyError
from candlewick.signals.generator import Signals

__all__ = [
    "CUT_KINDS",
    "CutPlan",
    "LookaheadDiff",
    "LookaheadReport",
    "check_lookahead",
    "cut_points",
    "cuts_text",
    "describe_difference",
    "rejected_bars",
    "truncating",
]

#: What ``signals_upto`` may return: the generator's :class:`Signals` (its decision log gives
#: the rejected bars) or just ``(entry, exit)``.
PipelineOutput = Signals | tuple[BoolArr, BoolArr]

#: ``signals_upto(end)`` computed from ``candles[:end]`` only, from fresh state.
SignalsUpTo = Callable[[int], PipelineOutput]

#: Cut kinds in priority order, then the final recomputation of the full history.
CUT_KINDS = ("signal", "rejected", "random", "checkpoint")
REPEAT = "repeat"

_KIND_TEXT = {
    "signal": "after kept signals",
    "rejected": "after rejected entries",
    "random": "at random bars",
    "checkpoint": "evenly spaced",
}


@dataclass(frozen=True, slots=True)
class LookaheadDiff:
    """A bar whose ``signal`` ("entry"/"exit") differs between full and truncated history.

    ``cut`` is the length of the first truncated history that showed it and ``cut_kind`` its
    kind (see :data:`CUT_KINDS`); ``"repeat"`` (with ``cut`` = all bars) when the full history
    computed a second time disagreed with the first.
    """

    bar: int
    timestamp: int | None
    signal: str
    full: bool
    truncated: bool
    cut: int
    cut_kind: str = ""

    def describe(self, when: str = "") -> str:
        """One human line, ``when`` being the bar's time as the caller prints it."""
        return describe_difference(
            self.bar, self.signal, self.full, self.truncated, self.cut, self.cut_kind, when
        )


def describe_difference(
    bar: int, signal: str, full: bool, truncated: bool, cut: int, cut_kind: str, when: str = ""
) -> str:
    """One human line about a differing signal (the fields of :class:`LookaheadDiff`)."""
    at = f" ({when})" if when else ""
    if cut_kind == REPEAT:
        return (
            f"bar {bar}{at}: {signal} was {full} on the first full-history run, {truncated} on "
            "the second (the pipeline keeps state between calls)"
        )
    kind = f" ({_KIND_TEXT[cut_kind]})" if cut_kind in _KIND_TEXT else ""
    return (
        f"bar {bar}{at}: {signal} was {full} on full history, {truncated} with history cut at "
        f"{cut} bars{kind}"
    )


def cuts_text(counts: Mapping[str, int], seed: int | None, repeated: bool) -> str:
    """E.g. ``512 truncated histories (300 after kept signals, ...; seed 7)``."""
    parts = [f"{counts.get(kind, 0)} {_KIND_TEXT[kind]}" for kind in CUT_KINDS]
    seed_text = "" if seed is None else f"; seed {seed}"
    again = " + the full history again" if repeated else ""
    total = sum(counts.get(kind, 0) for kind in CUT_KINDS)
    return f"{total} truncated histories ({', '.join(parts)}{seed_text}){again}"


@dataclass(frozen=True, slots=True)
class CutPlan:
    """Truncation ends (sorted, distinct) and the kind of each."""

    ends: npt.NDArray[np.int64]
    kinds: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        """How many cuts of each kind, every kind of :data:`CUT_KINDS` listed."""
        return {kind: self.kinds.count(kind) for kind in CUT_KINDS}


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """Outcome of :func:`check_lookahead`: the cut points tried and every difference found."""

    n_bars: int
    cuts: tuple[int, ...]
    differences: tuple[LookaheadDiff, ...]
    kinds: tuple[str, ...] = ()
    seed: int | None = None
    repeated: bool = False

    @property
    def ok(self) -> bool:
        """True when no truncated history changed any signal."""
        return not self.differences

    def counts(self) -> dict[str, int]:
        """How many truncated histories of each kind were checked."""
        return CutPlan(np.asarray(self.cuts, dtype=np.int64), self.kinds).counts()

    def cuts_text(self) -> str:
        """E.g. ``512 truncated histories (300 after kept signals, ...; seed 7)``."""
        return cuts_text(self.counts(), self.seed, self.repeated)

    def summary(self, limit: int = 10) -> str:
        """A few human lines: the verdict, the cuts checked and the first differences."""
        head = f"lookahead check over {self.n_bars} bars, {self.cuts_text()}: "
        if self.ok:
            return head + "no signal changed (clean)"
        lines = [head + f"{len(self.differences)} signal(s) change when the future is cut off"]
        for d in self.differences[:limit]:
            lines.append("  " + d.describe("" if d.timestamp is None else f"ts {d.timestamp}"))
        if len(self.differences) > limit:
            lines.append(f"  ... and {len(self.differences) - limit} more")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The differences as a table (bar, timestamp, signal, full, truncated, cut, kind)."""
        cols = ["bar", "timestamp", "signal", "full", "truncated", "cut", "cut_kind"]
        rows = [[getattr(d, c) for c in cols] for d in self.differences]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self, limit: int = 20) -> dict[str, Any]:
        """Plain JSON-able data for storage and reports, with the first ``limit`` differences."""
        return {
            "ok": self.ok,
            "bars": self.n_bars,
            "cuts": len(self.cuts),
            "cuts_by_kind": self.counts(),
            "seed": self.seed,
            "repeated": self.repeated,
            "differences": len(self.differences),
            "first_differences": [
                {
                    "bar": d.bar,
                    "timestamp": d.timestamp,
                    "signal": d.signal,
                    "full": d.full,
                    "truncated": d.truncated,
                    "cut": d.cut,
                    "cut_kind": d.cut_kind,
                }
                for d in self.differences[:limit]
            ],
        }


def rejected_bars(signals: Signals) -> BoolArr:
    """Bars where a setup proposed an entry or exit that the final signals do not have.

    From the decision log: raw entries a filter (or an exit on the same bar) rejected, and
    single setups' votes that the combination (``all``, ``vote``) dropped.
    """
    proposed = signals.raw_entry | signals.setup_entry.any(axis=0) | signals.setup_exit.any(axis=0)
    return np.asarray(proposed & ~(signals.entry | signals.exit), dtype=np.bool_)


def _spread(bars: npt.NDArray[np.int64], most: int) -> npt.NDArray[np.int64]:
    """At most ``most`` of ``bars``, evenly sampled (first and last kept)."""
    if len(bars) <= most:
        return bars
    if most <= 0:
        return bars[:0]
    return bars[np.linspace(0, len(bars) - 1, num=most).round().astype(np.int64)]


def cut_points(
    full_entry: BoolArr,
    full_exit: BoolArr,
    rejected: BoolArr | None = None,
    *,
    checkpoints: int = 100,
    max_signal_cuts: int = 300,
    max_rejected_cuts: int = 300,
    random_cuts: int = 100,
    seed: int = 0,
    min_bars: int = 2,
) -> CutPlan:
    """Truncation ends in ``[min_bars, n)`` of every kind (see the module docstring)."""
    n = len(full_entry)
    if n <= min_bars:
        return CutPlan(np.zeros(0, dtype=np.int64), ())
    after_signal = np.flatnonzero(full_entry | full_exit).astype(np.int64) + 1
    after_rejected = (
        np.zeros(0, np.int64) if rejected is None else np.flatnonzero(rejected).astype(np.int64) + 1
    )
    candidates = {
        "signal": _spread(after_signal[after_signal >= min_bars], max_signal_cuts),
        "rejected": _spread(after_rejected[after_rejected >= min_bars], max_rejected_cuts),
        "random": np.random.default_rng(seed).choice(
            np.arange(min_bars, n, dtype=np.int64),
            size=min(max(random_cuts, 0), n - min_bars),
            replace=False,
        ),
        "checkpoint": np.linspace(min_bars, n - 1, num=max(checkpoints, 0)).round(),
    }
    kind_of: dict[int, str] = {}
    for kind in CUT_KINDS:
        for end in candidates[kind].astype(np.int64).tolist():
            if min_bars <= end < n:
                kind_of.setdefault(end, kind)
    ends = sorted(kind_of)
    return CutPlan(np.asarray(ends, dtype=np.int64), tuple(kind_of[e] for e in ends))


def _as_signal(values: object, end: int, what: str) -> BoolArr:
    arr = np.asarray(values)
    if arr.dtype != np.bool_ or arr.shape != (end,):
        raise StrategyError(
            f"signals_upto({end}) returned {what} of dtype {arr.dtype} and shape {arr.shape}; "
            f"expected a bool array of length {end} (one value per bar of candles[:{end}])"
        )
    return arr


def _unpack(out: PipelineOutput, end: int) -> tuple[BoolArr, BoolArr, BoolArr | None]:
    """Entry, exit and (from a decision log) rejected bars of one pipeline run."""
    if isinstance(out, Signals):
        entry, exit_ = _as_signal(out.entry, end, "entry"), _as_signal(out.exit, end, "exit")
        return entry, exit_, rejected_bars(out)
    entry, exit_ = out
    return _as_signal(entry, end, "entry"), _as_signal(exit_, end, "exit"), None


def check_lookahead(
    signals_upto: SignalsUpTo,
    n_bars: int,
    *,
    timestamps: npt.NDArray[np.int64] | None = None,
    checkpoints: int = 100,
    max_signal_cuts: int = 300,
    max_rejected_cuts: int = 300,
    random_cuts: int = 100,
    seed: int = 0,
    min_bars: int = 2,
    tail: int | None = None,
    repeat: bool = True,
) -> LookaheadReport:
    """Compare full-history signals with signals recomputed on truncated histories.

    ``signals_upto(end)`` must run the whole pipeline on ``candles[:end]`` only, from fresh
    state, and return the :class:`Signals` (or just ``(entry, exit)``, then no cut follows
    rejected entries) of length ``end``. It is called for the full history, once per cut
    (:func:`cut_points`; ``seed`` draws the random cuts) and, with ``repeat``, for the full
    history again. Each truncated run is compared with the full run on its last ``tail`` bars
    (None: on all its bars). Every differing (bar, signal) is reported once, with the first
    cut that showed it.
    """
    full_entry, full_exit, rejected = _unpack(signals_upto(n_bars), n_bars)
    plan = cut_points(
        full_entry,
        full_exit,
        rejected,
        checkpoints=checkpoints,
        max_signal_cuts=max_signal_cuts,
        max_rejected_cuts=max_rejected_cuts,
        random_cuts=random_cuts,
        seed=seed,
        min_bars=min_bars,
    )
    runs: list[tuple[int, str]] = list(zip(plan.ends.tolist(), plan.kinds, strict=True))
    if repeat:
        runs.append((n_bars, REPEAT))
    found: dict[tuple[int, str], LookaheadDiff] = {}
    for end, kind in runs:
        entry, exit_, _ = _unpack(signals_upto(end), end)
        start = 0 if tail is None or kind == REPEAT else max(0, end - tail)
        for name, full, cut in (("entry", full_entry, entry), ("exit", full_exit, exit_)):
            for i in (np.flatnonzero(full[start:end] != cut[start:]) + start).tolist():
                if (i, name) not in found:
                    ts = None if timestamps is None else int(timestamps[i])
                    found[i, name] = LookaheadDiff(
                        i, ts, name, bool(full[i]), bool(cut[i]), end, kind
                    )
    diffs = tuple(sorted(found.values(), key=lambda d: (d.bar, d.signal)))
    return LookaheadReport(
        n_bars, tuple(plan.ends.tolist()), diffs, plan.kinds, seed, repeated=repeat
    )


def truncating(
    candles: pd.DataFrame, pipeline: Callable[[pd.DataFrame], PipelineOutput]
) -> SignalsUpTo:
    """``signals_upto`` for a pipeline ``candles frame -> Signals | (entry, exit)``.

    The pipeline gets a fresh copy of ``candles[:end]`` (RangeIndex), so it cannot see or
    mutate the rest. Resetting the pipeline's own state between calls is up to it.
    """

    def signals_upto(end: int) -> PipelineOutput:
        return pipeline(candles.iloc[:end].reset_index(drop=True).copy())

    return signals_upto
