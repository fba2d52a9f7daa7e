"""The benchmark page's memory comparison (bench/memory.py): Candlewick's highest peak against
the lowest peak of the lowest peer, met or missed, and the section that reports it."""

from __future__ import annotations

from typing import Any

from bench.memory import lowest_peer, peer_memory, peer_targets


def results(save: float, nosave: float) -> dict[str, Any]:
    def runs(median: float, low: float, high: float) -> dict[str, float]:
        return {"rss_mb": median, "min_rss_mb": low, "max_rss_mb": high}

    return {
        "cli_save": runs(save - 0.5, save - 1.0, save),
        "cli_nosave": runs(nosave - 0.5, nosave - 1.0, nosave),
        "peers": {
            "backtesting": runs(172.0, 171.2, 172.5),
            "vectorbt_warm": runs(431.0, 430.0, 432.0),
            "vectorbt_cold": {"rss_mb": 561.0},
        },
        "phases_5m": {
            "memory": {
                "load and validate the config": (126.0, 126.0),
                "engine (run_backtest)": (155.0, 156.0),
                "save the run (trades, equity curve)": (167.0, 167.0),
            }
        },
    }


def test_the_lowest_peer_is_the_lowest_run_of_any_peer() -> None:
    assert lowest_peer(results(160.0, 150.0)) == ("backtesting.py", 171.2)
    assert lowest_peer({"cli_save": {}}) is None


def test_each_candlewick_peak_is_judged_by_its_highest_run() -> None:
    rows = peer_targets(results(171.0, 150.0))
    assert [row[4] for row in rows] == [True, True]
    assert "0.2 MiB below" in rows[0][3]
    rows = peer_targets(results(171.5, 150.0))
    assert [row[4] for row in rows] == [False, True]
    assert "+0.3 MiB over backtesting.py" in rows[0][3]


def test_the_section_names_the_margin_and_where_the_peak_is() -> None:
    text = peer_memory(results(166.0, 156.0) | {"cli_first": {"rss_mb": 178.0}})
    assert "166 MiB, is **5.2 MiB below** the lowest peer's lowest (backtesting.py" in text
    assert "creates the database (Alembic is imported only then), peaks at 178 MiB: above" in text
    assert "126 MiB before any candle is read" in text
    assert "reached in the step 'save the run (trades, equity curve)'" in text
    assert peer_memory({"cli_save": {}}) == ""
