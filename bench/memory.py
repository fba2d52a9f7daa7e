"""docs/benchmarks.md on memory: Candlewick's peak RSS against its peers', in the same run.

The target: ``candlewick backtest`` of the reference run peaks below every peer measured, with
and without saving. Candlewick's figure is the highest peak over its runs, each peer's the
lowest over its runs: the comparison is the least flattering one for Candlewick.
"""

from __future__ import annotations

from typing import Any

from bench.report import _mb, _table

_CANDLEWICK = (
    ("cli_save", "`candlewick backtest --config examples/sma_cross.yaml` (saves the run)"),
    ("cli_nosave", "the same with `--no-save`"),
)


def _lowest(entry: dict[str, Any]) -> float:
    """The lowest peak RSS of a command's runs (a single run's own figure)."""
    return float(entry.get("min_rss_mb", entry["rss_mb"]))


def _highest(entry: dict[str, Any]) -> float:
    return float(entry.get("max_rss_mb", entry["rss_mb"]))


def _peers(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    peers = r.get("peers") or {}
    named = {
        "backtesting.py": peers.get("backtesting"),
        "vectorbt, warm": peers.get("vectorbt_warm"),
        "vectorbt, first run": peers.get("vectorbt_cold"),
    }
    return {name: entry for name, entry in named.items() if entry}


def lowest_peer(r: dict[str, Any]) -> tuple[str, float] | None:
    """The peer with the lowest peak RSS of this run, and that peak; None without peers."""
    peers = _peers(r)
    if not peers:
        return None
    name = min(peers, key=lambda k: _lowest(peers[k]))
    return name, _lowest(peers[name])


def peer_targets(r: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """Rows of the targets table: each ``candlewick backtest`` peak below the lowest peer's."""
    lowest = lowest_peer(r)
    if lowest is None:
        return []
    peer, limit = lowest
    rows = []
    for key, label in (("cli_save", ""), ("cli_nosave", " `--no-save`")):
        peak = _highest(r[key])
        ok = peak < limit
        status = (
            f"**met**: {limit - peak:,.1f} MiB below"
            if ok
            else f"**missed**: {peak - limit:+,.1f} MiB over {peer}"
        )
        rows.append(
            (
                f"`candlewick backtest` BTC/USDT 5m{label}, peak RSS below every peer",
                f"< {_mb(limit)} ({peer}, the lowest peer)",
                f"{_mb(peak)} (highest run)",
                status,
                ok,
            )
        )
    return rows


def peer_memory(r: dict[str, Any]) -> str:
    """The section comparing peak memory, with where Candlewick reaches its peak."""
    lowest = lowest_peer(r)
    if lowest is None:
        return ""
    rows = [
        (label, _mb(r[key]["rss_mb"]), _mb(_lowest(r[key])), _mb(_highest(r[key])))
        for key, label in _CANDLEWICK
    ]
    rows += [
        (name, _mb(e["rss_mb"]), _mb(_lowest(e)), _mb(_highest(e))) for name, e in _peers(r).items()
    ]
    peer, limit = lowest
    worst = max(_highest(r[key]) for key, _ in _CANDLEWICK)
    verdict = (
        f"Candlewick's highest peak, {_mb(worst)}, is **{limit - worst:,.1f} MiB below** the "
        f"lowest peer's lowest ({peer}, {_mb(limit)})."
        if worst < limit
        else f"Candlewick's highest peak, {_mb(worst)}, is **{worst - limit:,.1f} MiB above** "
        f"the lowest peer's lowest ({peer}, {_mb(limit)})."
    )
    first = r.get("cli_first")
    if first:
        side = "below" if first["rss_mb"] < limit else "above"
        verdict += (
            f" The first run on a fresh home, which creates the database (Alembic is imported "
            f"only then), peaks at {_mb(first['rss_mb'])}: {side} it."
        )
    return (
        "### Peak memory against the peers\n\n"
        "Peak resident memory (`ru_maxrss`) of each whole process on the same candles, over "
        "the repeats above.\n\n"
        + _table(("run", "median", "lowest", "highest"), rows, "lrrr")
        + "\n\n"
        + verdict
        + _where(r)
    )


def _where(r: dict[str, Any]) -> str:
    """Where the saving run reaches its peak, from the step probe."""
    memory = r.get("phases_5m", {}).get("memory", {})
    steps = [(name, float(m[1])) for name, m in memory.items() if m and m[1] == m[1]]
    if not steps:
        return ""
    top = max(peak for _, peak in steps)
    first = next(name for name, peak in steps if peak == top)
    floor = float(memory.get("load and validate the config", (0.0, 0.0))[0])
    return (
        f" In the step probe (below) the libraries hold {_mb(floor)} before any candle is "
        f"read, and the peak ({_mb(top)}) is reached in the step '{first}'."
    )
