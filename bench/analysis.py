"""The "why" of docs/benchmarks.md: where a missed target's time and memory go, and what would help.

The figures come from the run's results; the suggestions are written text, tied to the code as
it was profiled when the benchmark was built, and say so on the page.
"""

from __future__ import annotations

from typing import Any

from bench.report import _allowed_us, _mb, _per_trade_us, _s, _targets


def _top_steps(ph: dict[str, Any], n: int, work_only: bool = False) -> str:
    steps = ph["seconds"].items()
    if work_only:
        steps = [(k, v) for k, v in steps if not k.startswith(("interpreter", "import"))]
    top = sorted(steps, key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{name} {_s(sec)}" for name, sec in top)


def _split(ph: dict[str, Any]) -> tuple[float, float, float]:
    """(start-up and imports, the work itself, interpreter shutdown) of a step table."""
    imports = shutdown = work = 0.0
    for name, sec in ph["seconds"].items():
        if name.startswith(("interpreter start-up", "import")):
            imports += sec
        elif name.startswith("interpreter shutdown"):
            shutdown += sec
        else:
            work += sec
    return imports, work, shutdown


def _step(ph: dict[str, Any], prefix: str) -> float:
    return sum(float(v) for k, v in ph["seconds"].items() if k.startswith(prefix))


def why(r: dict[str, Any]) -> str:
    """The analysis section: one part per group of missed targets."""
    met = {t[0]: t[4] for t in _targets(r)}
    out = []
    single = [k for k in met if k.startswith("`candlewick backtest`") and not met[k]]
    if single:
        ph = r["phases_5m"]
        imports, work, shutdown = _split(ph)
        out.append(
            "### Single pair, whole process\n\n"
            f"The step probe splits the run into start-up and imports {_s(imports)}, the backtest "
            f"itself {_s(work)} (largest: {_top_steps(ph, 3, work_only=True)}) and interpreter "
            "shutdown "
            f"{_s(shutdown)}. The work is small; the process pays for its libraries twice, "
            "importing them and tearing them down (see the tables of import costs above: "
            "pandas, pulled in by TA-Lib and the pipeline, and SQLAlchemy lead).\n\n"
            "What would close the gap:\n\n"
            f"* End the CLI with `os._exit(code)` once output is flushed and the database is "
            f"closed: the interpreter's module teardown ({_s(shutdown)} here) does nothing a "
            "finished backtest needs.\n"
            f"* Save the run without SQLAlchemy on the SQLite path, or import it only for "
            f"PostgreSQL: its import is {_s(_step(ph, 'import storage'))} of this run.\n"
            "* Keep the config check's registries free of TA-Lib and pandas (names and "
            "parameter specs in a light module, the functions imported when computing); the "
            "pipeline still needs them, but `candlewick config`/`runs` commands would not."
        )
    if not met.get("engine throughput, BTC/USDT 5m with stops and fees, one core", True):
        e = r["engine"]
        prof = e.get("profile") or {"top": []}
        top = ", ".join(f"`{w}` {_s(t)}" for w, _, t, _ in prof["top"][:4])
        out.append(
            "### Engine throughput\n\n"
            "The engine walks events, not bars: its cost is per trade (Python and Decimal "
            f"work at each entry and exit), {_per_trade_us(e):.1f} µs here, where the target "
            f"allows {_allowed_us(e):.1f} µs. "
            f"Largest own times in the profile: {top}.\n\n"
            "What would close the gap: fewer Python objects and Decimal operations per trade "
            "(compute the fill arithmetic for a trade once, in one function, and build the "
            "`Trade` record from it; skip slippage and precision calls when they are zero or "
            "absent), and no heap for a single pair (its events are already in time order)."
        )
    p = r.get("portfolio")
    if p and not all(v for k, v in met.items() if k.startswith("portfolio")):
        ph = p["phases"]
        imports, work, shutdown = _split(ph)
        mem = ph["memory"]
        read = mem.get("read candles from the store", (0.0, 0.0))[0]
        signals = mem.get("indicators and signals", (0.0, 0.0))[0]
        engine = mem.get("engine (run_backtest)", (0.0, 0.0))[0]
        saved = mem.get("save the run (trades, equity curve)", (0.0, 0.0))[1]
        prof = p.get("profile") or {"top": []}
        top = ", ".join(f"`{w}` {_s(t)}" for w, _, t, _ in prof["top"][:5])
        out.append(
            "### Portfolio\n\n"
            f"Time: the largest steps are {_top_steps(ph, 5, work_only=True)}; start-up and "
            f"imports {_s(imports)}, "
            f"shutdown {_s(shutdown)}. Every one of the {p['trade_count']:,} trades costs "
            "Python work in the engine, in the metrics, in the database rows and at shutdown.\n\n"
            f"Memory (resident, after each step): {_mb(read)} once the candles are read "
            f"(10.5 M bars x 48 bytes = 505 MB of arrays), {_mb(signals)} with the signals, "
            f"{_mb(engine)} after the engine, and a peak of {_mb(saved)} while the run is saved "
            "(the trade rows are built as Python dicts and handed to SQLAlchemy at once).\n\n"
            f"Engine profile leaders: {top}.\n\n"
            "What would close the gap (largest first):\n\n"
            "* Engine, marking open positions: `_marked_exposure` converts every open "
            "position's mark to Decimal at every entry (up to 20 positions x 212 k entries). "
            "Keep a running exposure, or mark with one numpy dot product over the open "
            "quantities and convert the sum once.\n"
            "* Engine, the portfolio clock: `np.unique` over the concatenated 10.5 M "
            "timestamps, then a `searchsorted` per pair, although all 20 series share one "
            "grid. Check `array_equal` first (or build the grid arithmetically for gap-free "
            "series) and use the identity mapping and the pairs' own close arrays: seconds "
            "saved and about 160 MB of per-pair index and mark arrays never allocated.\n"
            "* Engine memory: one int64 next-signal index per bar, per pair, for entries and "
            "for exits (about 160 MB here) where the signals are sparse; the positions of the "
            "signals (`np.flatnonzero`) plus a `searchsorted` per lookup take a few MB.\n"
            "* Trades: about 1 KB each as a `Trade` with eight Decimal fields; 212 k of them "
            "are held by the result, walked by the metrics and freed at exit. Columnar trade "
            "arrays (float64 for metrics and reports, Decimal only for the account's cash) "
            "would cut memory, metrics time and teardown together.\n"
            f"* Saving: {_s(_step(ph, 'save the run'))} and the memory peak. Write the trades "
            "as columns (one blob per column, like the equity series), or insert them in "
            "bounded chunks with plain `sqlite3.executemany` of tuples.\n"
            f"* Exit: `os._exit` after flushing skips the {_s(shutdown)} of teardown.\n"
            f"* Reading: {_s(_step(ph, 'read candles'))} for 20 zstd Parquet files; "
            "uncompressed or LZ4 Arrow IPC files could be memory-mapped instead."
        )
    intro = (
        "The analysis below uses this run's step tables and profiles; the suggestions were "
        "written from them when the benchmark was built (2026-11) and name the code as it was "
        "then: check them against the current profiles before acting."
    )
    return "\n\n".join([intro, *out])
