"""The signal generator: combining setups, applying filters, the decision log."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from candlewick.core.types import BoolArr
from candlewick.errors import StrategyError
from candlewick.signals import (
    FilterCheck,
    FilterSpec,
    SetupSignals,
    SetupSpec,
    column,
    decisions_table,
    generate_signals,
    setup,
)

HOUR_MS = 3_600_000
DAY0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


@setup(
    "test_only_flags",
    defaults={"entry": "e1", "exit": "x1", "strength": None},
)
def _flags(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Entries and exits read from 0/1 columns, for exact tests of the generator."""
    strength = None if params["strength"] is None else column(frame, params, "strength")
    return SetupSignals(
        column(frame, params, "entry") > 0, column(frame, params, "exit") > 0, strength
    )


def flags(entry: str, exit: str = "x1", weight: float = 1.0, **extra: Any) -> SetupSpec:
    return SetupSpec("test_only_flags", {"entry": entry, "exit": exit, **extra}, weight)


def bars(signal: BoolArr) -> list[int]:
    return [int(i) for i in np.flatnonzero(signal)]


FRAME = pd.DataFrame(
    {
        "timestamp": DAY0 + np.arange(5, dtype=np.int64) * HOUR_MS,
        "e1": [1, 1, 0, 0, 1],
        "e2": [1, 0, 1, 0, 0],
        "e3": [1, 0, 0, 0, 1],
        "x1": [0, 0, 0, 1, 0],
        "x2": [0, 0, 0, 1, 1],
        "s": [0.2, 0.5, 0.5, 0.5, 0.6],
    }
)
WEIGHTED = [flags("e1"), flags("e2"), flags("e3", weight=2.0)]


@pytest.mark.parametrize(
    ("combine", "threshold", "expected"),
    [
        ("any", 0.5, [0, 1, 2, 4]),
        ("all", 0.5, [0]),
        ("vote", 0.5, [0, 4]),  # bar 4: (1 + 2) / 4 = 0.75
        ("vote", 0.75, [0, 4]),
        ("vote", 0.8, [0]),
        ("vote", 0.25, [0, 1, 2, 4]),
    ],
)
def test_combine_modes(combine: Any, threshold: float, expected: list[int]) -> None:
    out = generate_signals(FRAME, WEIGHTED, combine=combine, vote_threshold=threshold)
    assert bars(out.raw_entry) == bars(out.entry) == expected
    assert out.score.tolist() == [1.0, 0.25, 0.25, 0.0, 0.75]


def test_vote_threshold_of_two_thirds_is_met_by_two_of_three_equal_weights() -> None:
    specs = [flags("e1"), flags("e2"), flags("e2")]
    out = generate_signals(FRAME, specs, combine="vote", vote_threshold=2 / 3)
    assert bars(out.entry) == [0, 2]


def test_exits_combine_with_any_by_default_and_all_on_request() -> None:
    specs = [flags("e1", "x1"), flags("e2", "x2")]
    assert bars(generate_signals(FRAME, specs).exit) == [3, 4]
    assert bars(generate_signals(FRAME, specs, exit_combine="all").exit) == [3]


def test_an_entry_on_an_exit_bar_is_dropped_and_logged() -> None:
    out = generate_signals(FRAME, [flags("e1", "x1"), flags("e2", "x2")])
    assert bars(out.raw_entry) == [0, 1, 2, 4]
    assert bars(out.entry) == [0, 1, 2]
    assert out.rejected_by[4] == "exit"
    assert out.reason[4] == "exit signal on the same bar (test_only_flags#2)"


def test_strength_is_the_weighted_mean_over_voting_setups() -> None:
    specs = [flags("e1", strength="s"), flags("e3", weight=3.0)]  # e3 gives no strength: 1.0
    out = generate_signals(FRAME, specs)
    assert out.strength[0] == pytest.approx((0.2 + 3.0) / 4)
    assert out.strength[1] == pytest.approx(0.5)
    assert np.isnan(out.strength[2])


def filtered_frame() -> pd.DataFrame:
    # Hourly bars from 06:00; volume dips on bar 3.
    return pd.DataFrame(
        {
            "timestamp": DAY0 + (6 + np.arange(6, dtype=np.int64)) * HOUR_MS,
            "volume": [10.0, 10, 10, 2, 10, 10],
            "e1": [1.0, 0, 1, 1, 1, 0],
            "x1": [0.0] * 6,
        }
    )


FILTERS = [
    FilterSpec("time_of_day", {"allowed_hours": "08-20"}),
    FilterSpec("volume", {"n": 2, "k": 0.9}),
]


def test_filters_reject_and_the_first_rejecting_filter_is_reported() -> None:
    out = generate_signals(filtered_frame(), [flags("e1")], FILTERS)
    assert bars(out.raw_entry) == [0, 2, 3, 4]
    assert bars(out.entry) == [2, 4]
    # Bar 0 fails both filters (06:00 and no volume mean yet): the first one is reported.
    assert out.rejected_by.tolist() == ["time_of_day", "", "", "volume", "", ""]
    assert out.reason[0] == "06:00 UTC outside 08:00-20:00"
    assert out.reason[3] == "volume 2 < 0.9 x SMA(2) 6"


def test_decision_log_lists_voters_score_and_every_filter_verdict() -> None:
    out = generate_signals(filtered_frame(), [flags("e1")], FILTERS)
    log = out.decisions()
    assert [d.bar for d in log] == [0, 2, 3, 4]
    first = log[0]
    assert first.setups == ("test_only_flags",)
    assert first.score == 1.0
    assert not first.accepted
    assert first.checks == (
        FilterCheck("time_of_day", False, "06:00 UTC outside 08:00-20:00"),
        FilterCheck("volume", False, "volume SMA(2) not available yet (warm-up)"),
    )
    assert log[1].accepted and log[1].rejected_by == "" and log[1].reason == ""
    assert all(c.accepted for c in log[1].checks)


def test_decisions_table() -> None:
    frame = filtered_frame()
    table = decisions_table(generate_signals(frame, [flags("e1")], FILTERS), frame)
    assert list(table.columns) == [
        "bar",
        "timestamp",
        "setups",
        "score",
        "strength",
        "accepted",
        "rejected_by",
        "reason",
        "checks",
    ]
    assert table["bar"].tolist() == [0, 2, 3, 4]
    assert table["timestamp"].tolist() == frame["timestamp"].iloc[[0, 2, 3, 4]].tolist()
    assert table["accepted"].tolist() == [False, True, False, True]
    assert table["checks"].iloc[2] == "time_of_day: ok; volume: volume 2 < 0.9 x SMA(2) 6"


def test_empty_decision_table_keeps_its_columns() -> None:
    frame = filtered_frame().assign(e1=0.0)
    table = decisions_table(generate_signals(frame, [flags("e1")]), frame)
    assert len(table) == 0
    assert "rejected_by" in table.columns


def test_repeated_setups_get_distinct_labels() -> None:
    out = generate_signals(
        FRAME, [flags("e1"), flags("e2"), SetupSpec("test_only_flags", {}, label="mine")]
    )
    assert out.setup_labels == ("test_only_flags", "test_only_flags#2", "mine")
    assert out.decisions()[0].setups == out.setup_labels


def test_ma_cross_through_the_generator_equals_the_setup() -> None:
    frame = pd.DataFrame({"sma_fast": [np.nan, 1, 3, 1, 3], "sma_slow": [np.nan, 2, 2, 2, 2]})
    out = generate_signals(frame, [SetupSpec("ma_cross")])
    assert bars(out.entry) == [2, 4]
    assert bars(out.exit) == [3]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"setups": []}, "no setups"),
        ({"setups": [SetupSpec("ma_crosss")]}, "unknown setup 'ma_crosss'.*ma_cross"),
        ({"filters": [FilterSpec("volumes")]}, "unknown filter 'volumes'.*volume"),
        ({"vote_threshold": 0.0}, "vote_threshold"),
        ({"vote_threshold": 1.5}, "vote_threshold"),
        ({"combine": "most"}, "combine must be one of"),
        ({"setups": [flags("e1", weight=0.0)]}, "weight must be > 0"),
        ({"setups": [flags("e1", weight=float("nan"))]}, "weight must be > 0"),
    ],
)
def test_bad_configuration_is_rejected(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"setups": [flags("e1")], **kwargs}
    with pytest.raises(StrategyError, match=match):
        generate_signals(FRAME, **args)


def test_the_plugin_example_registers_a_setup_and_a_filter_usable_by_name() -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "custom_setup.py"
    spec = importlib.util.spec_from_file_location("candlewick_plugin_custom_setup", path)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    # Bar 1 is inside bar 0; bar 2 closes above it, on a range of 5% of its close.
    frame = pd.DataFrame(
        {
            "high": [10.0, 9.5, 10.2, 10.1],
            "low": [8.0, 8.5, 9.7, 9.8],
            "close": [9.0, 9.0, 10.0, 9.6],
        }
    )
    out = generate_signals(
        frame,
        [SetupSpec("inside_bar_breakout")],
        [FilterSpec("max_bar_range", {"max_ratio": 0.04})],
    )
    assert bars(out.raw_entry) == [2]
    assert out.reason[2] == "bar range 5.000% > 4.000% of close"
