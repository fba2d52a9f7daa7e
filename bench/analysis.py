"""The "why" of docs/benchmarks.md: where a missed target's time and memory go, and what would help.

Every figure comes from the run's results. The advice is chosen by what this run measured: a
bullet appears only when its step is large enough to matter, and the engine advice only for
the hot spots that are actually at the top of this run's profiles.
"""

from __future__ import annotations

from typing import Any

from bench.report import (
    TARGET_WHOLE_PROCESS_MB,
    _allowed_us,
    _mb,
    _per_trade_us,
    _s,
    _targets,
)

_OVERHEAD = ("interpreter", "import", "process exit")

# Known engine hot spots (a substring of a profile row) and what would remove them.
_HOT_SPOTS = (
    (
        "_marked_exposure",
        "`_marked_exposure`: mark the open positions with one numpy dot product "
        "over their float quantities (or keep a running exposure), not a Decimal per position per "
        "entry.",
    ),
    (
        "unique",
        "`np.unique` over all pairs' timestamps: skip it when the pairs share one clock "
        "(`array_equal`), or build the grid arithmetically for gap-free series.",
    ),
    ("_param", "sizing parameters are parsed at every entry (`_param`): read them once per run."),
    (
        "_add_held_values",
        "`_add_held_values`: `np.add.at` is slow; `np.bincount` over the "
        "interval starts and ends gives the same marks.",
    ),
    (
        "repr",
        "`repr`/`dec`: each float that becomes a Decimal goes through its repr; convert a "
        "fill's prices once and reuse them.",
    ),
    (
        "market_buy",
        "`market_buy`/`sell`/`_enter`/`_exit`: Python and Decimal work per trade; one "
        "function computing a trade's fills and building its `Trade` record would do it once.",
    ),
)


def _top_steps(ph: dict[str, Any], n: int, work_only: bool = False) -> str:
    steps = ph["seconds"].items()
    if work_only:
        steps = [(k, v) for k, v in steps if not k.startswith(_OVERHEAD)]
    top = sorted(steps, key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{name} {_s(sec)}" for name, sec in top)


def _split(ph: dict[str, Any]) -> tuple[float, float, float]:
    """(start-up and imports, the work itself, process exit) of a step table."""
    imports = shutdown = work = 0.0
    for name, sec in ph["seconds"].items():
        if name.startswith(("interpreter start-up", "import")):
            imports += sec
        elif name.startswith("process exit"):
            shutdown += sec
        else:
            work += sec
    return imports, work, shutdown


def _step(ph: dict[str, Any], prefix: str) -> float:
    return sum(float(v) for k, v in ph["seconds"].items() if k.startswith(prefix))


def _rss(ph: dict[str, Any], step: str, peak: bool = False) -> float:
    now, high = ph["memory"].get(step, (0.0, 0.0))
    return float(high if peak else now)


def _hot_spot_advice(profiles: list[dict[str, Any]], top: int = 8) -> list[str]:
    leaders = [row[0] for prof in profiles for row in prof.get("top", [])[:top]]
    return [
        f"* Engine, {advice}"
        for key, advice in _HOT_SPOTS
        if any(key in where for where in leaders)
    ]


def why(r: dict[str, Any]) -> str:
    """The analysis section: one part per group of missed targets."""
    met = {t[0]: t[4] for t in _targets(r)}
    out = []
    if any(k.startswith("`candlewick backtest`") and not ok for k, ok in met.items()):
        out.append(_single(r))
    if not met.get("engine throughput, BTC/USDT 5m with stops and fees, one core", True):
        out.append(_engine(r))
    if "portfolio" in r and not all(ok for k, ok in met.items() if k.startswith("portfolio")):
        out.append(_portfolio(r))
    return "\n\n".join(out)


def _single(r: dict[str, Any]) -> str:
    ph = r["phases_5m"]
    imports, work, exit_s = _split(ph)
    advice = []
    if not ph.get("exits_hard"):
        advice.append(
            f"* End the CLI with `os._exit(code)` once output is flushed and the database is "
            f"closed: the interpreter's module teardown ({_s(exit_s)} here) does nothing a "
            "finished backtest needs."
        )
    storage = _step(ph, "import storage")
    if storage > 0.1:
        grew = _rss(ph, "import storage (sqlalchemy), when the run is saved") - _rss(ph, "metrics")
        advice.append(
            f"* Import SQLAlchemy only where it is needed (PostgreSQL), or save SQLite runs with "
            f"the standard `sqlite3`: its import is {_s(storage)} and {_mb(grew)} of this run."
        )
    foot = r.get("footprints", {})
    if "talib" in foot and "pandas" in foot:
        talib = foot["talib"][1] - foot["pandas"][1]
        advice.append(
            f"* Import TA-Lib when a TA-Lib-backed indicator first runs, not with the indicator "
            f"library: {_mb(talib)} over pandas alone, and the reference run computes none (its "
            "SMAs are exact window sums)."
        )
    registries = _step(ph, "import the registries")
    if registries > 0.1 and "talib" in r.get("config_load_imports", ""):
        advice.append(
            f"* Loading the config imports the indicator registry, so TA-Lib and pandas "
            f"({_s(registries)}): unavoidable for a backtest that computes with them, but a "
            "light registry of names and parameter specs would spare every other command."
        )
    return (
        "### Single pair, whole process\n\n"
        f"Start-up and imports {_s(imports)}, the backtest itself {_s(work)} (largest: "
        f"{_top_steps(ph, 3, work_only=True)}), process exit {_s(exit_s)}. The work is small: "
        "the process mostly pays for its libraries (see the import tables above).\n\n"
        + _memory(r)
        + ("What would close the gap:\n\n" + "\n".join(advice) if advice else "")
    )


def _memory(r: dict[str, Any]) -> str:
    """Where the single pair's resident memory goes, step by step (the probe saves the run)."""
    ph = r["phases_5m"]
    floor = _rss(ph, "load and validate the config")
    read = _rss(ph, "read candles from the store")
    signals = _rss(ph, "indicators and signals", peak=True)
    engine = _rss(ph, "engine (run_backtest)")
    metrics = _rss(ph, "metrics")
    storage = _rss(ph, "import storage (sqlalchemy), when the run is saved")
    saved = _rss(ph, "save the run (trades, equity curve)", peak=True)
    return (
        f"Peak memory ({TARGET_WHOLE_PROCESS_MB:.0f} MB target): the libraries hold "
        f"{_mb(floor)} before any data is read (pandas with pyarrow's compute kernels, TA-Lib, "
        "numpy, pydantic, typer and rich: see the footprint table). Reading the candles leaves "
        f"{_mb(read)} (7.1 MiB of arrays and pyarrow's Parquet code); indicators and signals "
        f"peak at {_mb(signals)}, the engine leaves {_mb(engine)}; with the frame, the signals and "
        f"the candles freed, {_mb(metrics)} remain after the metrics. Saving imports SQLAlchemy "
        f"({_mb(storage)} after it) and peaks at {_mb(saved)}. {_mb(floor)} of libraries leave "
        f"{_mb(TARGET_WHOLE_PROCESS_MB - floor)} for a year of 5m bars, their frame, 3,114 "
        "trades and the database: reaching the target would take pandas out of the backtest "
        "path (setups over plain numpy column mappings instead of DataFrames), a change of "
        "the API users write strategies against, not made here.\n\n"
    )


def _engine(r: dict[str, Any]) -> str:
    e = r["engine"]
    prof = e.get("profile") or {"top": []}
    top = ", ".join(f"`{w}` {_s(t)}" for w, _, t, _ in prof["top"][:4])
    advice = _hot_spot_advice([prof], top=6)
    return (
        "### Engine throughput\n\n"
        "The engine walks events, not bars: its cost is per trade (Python and Decimal work at "
        f"each entry and exit), {_per_trade_us(e):.1f} µs here, where the target allows "
        f"{_allowed_us(e):.1f} µs. Largest own times in the profile: {top}.\n\n"
        + ("What would close the gap:\n\n" + "\n".join(advice) if advice else "")
    )


def _portfolio(r: dict[str, Any]) -> str:
    p = r["portfolio"]
    ph = p["phases"]
    imports, _, exit_s = _split(ph)
    trades = int(p["trade_count"])
    read = _rss(ph, "read candles from the store")
    signals = _rss(ph, "indicators and signals")
    engine = _rss(ph, "engine (run_backtest)")
    saving = _rss(ph, "save the run (trades, equity curve)", peak=True)
    advice = _hot_spot_advice([p.get("profile") or {}, r["engine"].get("profile") or {}])
    save_s, metrics_s, read_s = (
        _step(ph, "save the run"),
        _step(ph, "metrics"),
        _step(ph, "read candles"),
    )
    if save_s > 1.0:
        advice.append(
            f"* Saving ({_s(save_s)}, and the memory peak: {_mb(saving - engine)} over the "
            "engine's): every trade becomes a row of Python objects, all of them built before "
            "the insert. Insert in bounded chunks (a generator of rows, 10,000 at a time) or "
            "store the trades as columns (one blob per column, like the equity series)."
        )
    if metrics_s > 0.5:
        advice.append(
            f"* Metrics ({_s(metrics_s)}) walk {trades:,} `Trade` objects; columnar trade arrays "
            "(float64 for metrics and reports, Decimal only for the account) would make them "
            "numpy operations, and cut memory too (about 1 KiB per `Trade` with its eight "
            f"Decimals: {trades / 1024:,.0f} MiB here)."
        )
    if read_s > 0.5:
        advice.append(
            f"* Reading ({_s(read_s)}, 20 zstd Parquet files, decoded one column at a time on "
            "one thread so that Arrow's buffers and thread pools stay out of the peak): "
            "uncompressed or LZ4 Arrow IPC files could be memory-mapped, and volume need not "
            "be read when nothing uses it."
        )
    if not ph.get("exits_hard") and exit_s > 0.1:
        advice.append(f"* Exit: `os._exit` after flushing would skip {_s(exit_s)} of teardown.")
    floor = read
    return (
        "### Portfolio\n\n"
        f"Time: the largest steps are {_top_steps(ph, 5, work_only=True)}; start-up and "
        f"imports {_s(imports)}, process exit {_s(exit_s)}. Each of the {trades:,} trades costs "
        "Python work in the engine, the metrics and the database rows.\n\n"
        f"Memory, resident after each step: {_mb(read)} once the candles are read (10.5 M bars "
        f"x 48 bytes = 481 MiB of arrays, on top of the libraries), {_mb(signals)} with the "
        f"signals, {_mb(engine)} after the engine, a peak of {_mb(saving)} while saving. With "
        f"{_mb(floor)} spent before any signal, 1 GiB leaves {_mb(1024 - floor)} for signals, "
        "engine, trades and saving: the trades and the save must become columnar or streamed, "
        "or the candles narrower (float32 prices, no volume column when unused).\n\n"
        "What would close the gap:\n\n" + "\n".join(advice)
    )
