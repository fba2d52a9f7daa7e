"""The signal generator: runs the configured setups, combines them, applies the filters.

Pipeline for one frame (all vectorised, no per-bar loop):

1. every setup runs on the whole frame and gives per-bar entry/exit flags;
2. entries combine into ``raw_entry`` by ``combine``: ``"any"`` (one setup suffices),
   ``"all"`` (every setup on the same bar) or ``"vote"`` (weighted share
   ``Σ weight·entry / Σ weight >= vote_threshold``); exits combine by ``exit_combine``,
   ``"any"`` by default: an exit from any setup closes the position;
3. every filter judges every raw entry (each sees the raw entries, not what an earlier filter
   left, so all verdicts are in the log); an entry is kept only if all filters keep it, and
   the first rejecting filter in config order is the one reported;
4. an entry on a bar that also has a final exit is dropped (rejected by ``"exit"``): the
   engine would otherwise have to guess which one wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from candlewick.core.registry import Registry
from candlewick.core.types import F64, BoolArr
from candlewick.errors import StrategyError
from candlewick.signals.filters import FILTERS
from candlewick.signals.setups import SETUPS

__all__ = [
    "Decision",
    "FilterCheck",
    "FilterSpec",
    "SetupSpec",
    "Signals",
    "decisions_table",
    "generate_signals",
]

F = TypeVar("F", bound=Callable[..., Any])
Combine = Literal["any", "all", "vote"]
ObjArr = npt.NDArray[np.object_]

#: The pseudo-filter that rejects an entry on a bar where an exit fires.
EXIT_CONFLICT = "exit"


@dataclass(frozen=True, slots=True)
class SetupSpec:
    """One configured setup: registered ``name``, its ``params``, its ``weight`` in a vote.

    ``label`` names it in the decision log (default: the name; repeats get "#2", "#3").
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    label: str | None = None


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """One configured filter: registered ``name`` and its ``params``."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None


@dataclass(frozen=True, slots=True)
class FilterCheck:
    """One filter's verdict on one raw entry."""

    filter: str
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What happened to one raw entry: who voted, the score, each filter's verdict."""

    bar: int
    setups: tuple[str, ...]
    score: float
    checks: tuple[FilterCheck, ...]
    accepted: bool
    rejected_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Signals:
    """Final and raw signals of a frame, plus everything the decision log needs.

    ``score`` is the weighted share of setups voting entry on each bar; ``strength`` the
    weighted mean strength of the setups voting entry (1.0 for a setup that gives none),
    NaN where none votes. ``setup_entry``/``setup_exit`` are (setups x bars),
    ``filter_keep``/``filter_reason`` (filters x bars). ``rejected_by`` holds, per bar, the
    label of the first rejecting filter (or ``"exit"``), "" where accepted or no raw entry.
    """

    entry: BoolArr
    exit: BoolArr
    raw_entry: BoolArr
    score: F64
    strength: F64
    setup_labels: tuple[str, ...]
    setup_entry: BoolArr
    setup_exit: BoolArr
    filter_labels: tuple[str, ...]
    filter_keep: BoolArr
    filter_reason: ObjArr
    rejected_by: ObjArr
    reason: ObjArr

    def decisions(self) -> list[Decision]:
        """One :class:`Decision` per raw entry bar, in bar order."""
        out = []
        for i in np.flatnonzero(self.raw_entry):
            voters = tuple(
                lbl for lbl, e in zip(self.setup_labels, self.setup_entry[:, i], strict=True) if e
            )
            checks = tuple(
                FilterCheck(lbl, bool(self.filter_keep[k, i]), str(self.filter_reason[k, i]))
                for k, lbl in enumerate(self.filter_labels)
            )
            out.append(
                Decision(
                    int(i),
                    voters,
                    float(self.score[i]),
                    checks,
                    bool(self.entry[i]),
                    str(self.rejected_by[i]),
                    str(self.reason[i]),
                )
            )
        return out


def _labels(specs: Sequence[SetupSpec] | Sequence[FilterSpec]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    labels = []
    for spec in specs:
        base = spec.label or spec.name
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return tuple(labels)


def _combine(flags: BoolArr, weights: F64, how: str, threshold: float, what: str) -> BoolArr:
    if how == "any":
        return np.asarray(flags.any(axis=0), dtype=np.bool_)
    if how == "all":
        return np.asarray(flags.all(axis=0), dtype=np.bool_)
    if how == "vote":
        # A tiny tolerance so that 2 of 3 equal weights meets a threshold of 2/3.
        share = weights @ flags / weights.sum()
        return np.asarray(share >= threshold - 1e-12, dtype=np.bool_)
    raise StrategyError(f"{what} must be one of any, all, vote; got {how!r}")


def generate_signals(
    frame: pd.DataFrame,
    setups: Sequence[SetupSpec],
    filters: Sequence[FilterSpec] = (),
    combine: Combine = "any",
    vote_threshold: float = 0.5,
    exit_combine: Combine = "any",
) -> Signals:
    """Run ``setups`` on ``frame``, combine them, apply ``filters``: see the module docstring.

    Raises StrategyError for an unknown setup/filter name (with close matches), bad params,
    a missing column, a non-positive weight or a threshold outside (0, 1].
    """
    if not setups:
        raise StrategyError("no setups configured: add at least one under setups: in the config")
    if not 0.0 < vote_threshold <= 1.0:
        raise StrategyError(f"vote_threshold must be in (0, 1], got {vote_threshold!r}")
    n = len(frame)
    setup_labels, filter_labels = _labels(setups), _labels(filters)
    entries = np.zeros((len(setups), n), dtype=np.bool_)
    exits = np.zeros((len(setups), n), dtype=np.bool_)
    strengths = np.ones((len(setups), n), dtype=np.float64)
    weights = np.empty(len(setups), dtype=np.float64)
    for k, spec in enumerate(setups):
        if not (spec.weight > 0.0 and np.isfinite(spec.weight)):
            raise StrategyError(f"setup {setup_labels[k]!r}: weight must be > 0, got {spec.weight}")
        weights[k] = spec.weight
        out = _lookup(SETUPS, spec.name)(frame, spec.params)
        entries[k], exits[k] = out.entry, out.exit
        if out.strength is not None:
            strengths[k] = out.strength

    score = weights @ entries / weights.sum()
    raw_entry = _combine(entries, weights, combine, vote_threshold, "combine")
    exit_ = _combine(exits, weights, exit_combine, vote_threshold, "exit_combine")
    voted = weights[:, None] * entries
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = (voted * strengths).sum(axis=0) / voted.sum(axis=0)

    keep = np.ones((len(filters), n), dtype=np.bool_)
    reasons = np.full((len(filters), n), "", dtype=object)
    for k, fspec in enumerate(filters):
        verdict = _lookup(FILTERS, fspec.name)(frame, raw_entry, fspec.params, exits=exit_)
        keep[k], reasons[k] = verdict.keep, verdict.reason

    rejected_by = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    entry = raw_entry.copy()
    # Walk filters last to first so that the first rejecting filter's label is written last.
    for k in range(len(filters) - 1, -1, -1):
        hit = raw_entry & ~keep[k]
        rejected_by[hit], reason[hit] = filter_labels[k], reasons[k][hit]
        entry &= ~hit
    conflict = entry & exit_
    if conflict.any():
        rejected_by[conflict] = EXIT_CONFLICT
        for i in np.flatnonzero(conflict):
            who = [lbl for lbl, e in zip(setup_labels, exits[:, i], strict=True) if e]
            reason[i] = f"exit signal on the same bar ({', '.join(who)})"
        entry &= ~conflict

    return Signals(
        entry=entry,
        exit=exit_,
        raw_entry=raw_entry,
        score=score,
        strength=np.where(raw_entry, strength, np.nan),
        setup_labels=setup_labels,
        setup_entry=entries,
        setup_exit=exits,
        filter_labels=filter_labels,
        filter_keep=keep,
        filter_reason=reasons,
        rejected_by=rejected_by,
        reason=reason,
    )


def _lookup(registry: Registry[F], name: str) -> F:
    try:
        return registry.get(name)
    except KeyError as exc:
        raise StrategyError(str(exc.args[0])) from None


def decisions_table(signals: Signals, frame: pd.DataFrame) -> pd.DataFrame:
    """The decision log as a table for reports, one row per raw entry bar.

    Columns: bar, timestamp, setups (comma-joined), score, strength, accepted, rejected_by,
    reason, checks ("filter: ok" / "filter: reason" for every filter, "; "-joined).
    """
    decisions = signals.decisions()
    ts = frame["timestamp"].to_numpy(dtype=np.int64) if "timestamp" in frame.columns else None
    rows = [
        {
            "bar": d.bar,
            "timestamp": int(ts[d.bar]) if ts is not None else -1,
            "setups": ", ".join(d.setups),
            "score": d.score,
            "strength": float(signals.strength[d.bar]),
            "accepted": d.accepted,
            "rejected_by": d.rejected_by,
            "reason": d.reason,
            "checks": "; ".join(
                f"{c.filter}: {'ok' if c.accepted else c.reason}" for c in d.checks
            ),
        }
        for d in decisions
    ]
    columns = ["bar", "timestamp", "setups", "score", "strength", "accepted", "rejected_by"]
    return pd.DataFrame(rows, columns=[*columns, "reason", "checks"])
