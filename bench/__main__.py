"""``python -m bench``: run every benchmark once, on this machine, and write docs/benchmarks.md.

Steps (all in one run, same data, each measured command in its own process):

1. import BTC/USDT 5m (154,301 bars) into a temporary store (``candlewick data import``);
2. ``candlewick backtest --config examples/sma_cross.yaml`` with and without ``--no-save``;
3. the same strategy in backtesting.py and vectorbt (cold numba cache, then warm), and an
   independent Decimal loop; trade counts and final equities compared;
4. where Candlewick's time and memory go: its steps timed one by one, ``-X importtime``,
   and the import cost of each library alone;
5. engine throughput (``run_backtest`` alone, one core, with and without stops);
6. the portfolio: 20 pairs x 525,600 1m bars chained from real files, imported, then
   ``candlewick backtest`` on bench/configs/portfolio_20x1m.yaml.

Options: ``--quick`` (fewer repeats), ``--out PATH``, ``--skip-peers``, ``--skip-portfolio``,
``--keep`` (keep the temporary home and print its path), ``--render RESULTS`` (only write the
page again from a saved results file). Each run saves its raw results as JSON in
bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import (
    PYTHON,
    REPO,
    MeasureError,
    Repeated,
    cli_result,
    exact_result,
    import_footprints,
    import_times,
    last_json,
    machine_facts,
    repeat,
    run_process,
)

CANDLES_5M = Path("candles") / "binance_BTC-USDT_5m.csv.gz"
SMA_CONFIG = REPO / "examples" / "sma_cross.yaml"
STOPS_CONFIG = REPO / "bench" / "configs" / "sma_cross_stops.yaml"
PORTFOLIO_CONFIG = REPO / "bench" / "configs" / "portfolio_20x1m.yaml"
PORTFOLIO_PAIRS = 20
RESULTS = REPO / "bench" / "results"
CANDLEWICK = PYTHON.parent / "candlewick"
FOOTPRINT_MODULES = (
    "",
    "numpy",
    "pyarrow",
    "pandas",
    "talib",
    "pydantic",
    "typer",
    "rich",
    "sqlalchemy",
    "alembic",
    "candlewick.cli.main",
    "backtesting",
    "vectorbt",
)


def say(text: str) -> None:
    """Progress on stderr (stdout stays clean)."""
    print(text, file=sys.stderr, flush=True)


def summary(rep: Repeated) -> dict[str, Any]:
    """Median and min wall time, median and max peak RSS of a repeated command."""
    return {
        "n": len(rep.runs),
        "median_s": rep.median_wall,
        "min_s": rep.min_wall,
        "rss_mb": rep.median_rss,
        "max_rss_mb": rep.max_rss,
        "min_rss_mb": min(run.peak_rss_mb for run in rep.runs),
        "walls": rep.walls,
    }


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CANDLEWICK_DB_URL"}
    env.update(
        CANDLEWICK_HOME=str(home),
        COLUMNS="200",  # one summary line per value in the CLI's output
        NO_COLOR="1",
        NUMBA_CACHE_DIR=str(home / "numba-cache"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def shared_data() -> Path:
    """The shared real-data folder (the benchmark cannot run without it)."""
    from candlewick.paths import shared_data_dir

    found = shared_data_dir()
    if found is None:
        raise SystemExit("no shared data folder (../shared/data): set CANDLEWICK_SHARED_DATA")
    return found


def bench_single_pair(home: Path, data: Path, n: int, results: dict[str, Any]) -> None:
    """Import, then the CLI backtest of BTC/USDT 5m with and without saving."""
    csv = data / CANDLES_5M
    say("importing BTC/USDT 5m into fresh stores ...")
    imports = []
    for i in range(n):
        fresh = home if i == n - 1 else home / f"import-{i}"
        imports.append(run_process([CANDLEWICK, "data", "import", csv], env=_env(fresh)))
    results["import"] = summary(Repeated("import", tuple(imports)))
    env = _env(home)
    say("candlewick backtest (the first run creates the database) ...")
    first = run_process([CANDLEWICK, "backtest", "--config", SMA_CONFIG], env=env)
    results["cli_first"] = {"wall_s": first.wall_s, "rss_mb": first.peak_rss_mb}
    save = repeat("backtest", [CANDLEWICK, "backtest", "--config", SMA_CONFIG], n, env=env, say=say)
    nosave = repeat(
        "backtest --no-save",
        [CANDLEWICK, "backtest", "--config", SMA_CONFIG, "--no-save"],
        n,
        env=env,
        say=say,
    )
    outcomes = {cli_result(r.stdout) for r in (first, *save.runs, *nosave.runs)}
    if len(outcomes) != 1:
        raise MeasureError(f"candlewick backtest gave different results across runs: {outcomes}")
    count, equity = exact_result([CANDLEWICK, "backtest", "--config", SMA_CONFIG], env,
                                 outcomes.pop())  # fmt: skip
    results["cli_save"], results["cli_nosave"] = summary(save), summary(nosave)
    results["candlewick"] = {"trade_count": count, "final_equity": equity}


def bench_peers(home: Path, data: Path, n: int, results: dict[str, Any]) -> None:
    """backtesting.py and vectorbt, each in its own process; the Decimal reference loop."""
    import numpy as np
    import pandas as pd

    from bench.peers import reference_backtest

    frame = pd.read_csv(data / CANDLES_5M)
    npz = home / "btc_usdt_5m.npz"
    arrays: dict[str, Any] = {c: frame[c].to_numpy() for c in frame.columns}
    np.savez(npz, **arrays)
    env = _env(home)
    peers: dict[str, Any] = {}
    bt = repeat(
        "backtesting.py", [PYTHON, "-m", "bench.peers", "backtesting", npz], n, env=env, say=say
    )
    peers["backtesting"] = summary(bt) | {"outputs": [last_json(r.stdout) for r in bt.runs]}
    shutil.rmtree(home / "numba-cache", ignore_errors=True)
    cold = run_process([PYTHON, "-m", "bench.peers", "vectorbt", npz], env=env)
    say(f"  vectorbt cold (empty numba cache): {cold.wall_s:.2f} s, {cold.peak_rss_mb:.0f} MB")
    peers["vectorbt_cold"] = {
        "wall_s": cold.wall_s,
        "rss_mb": cold.peak_rss_mb,
        "output": last_json(cold.stdout),
    }
    warm = repeat(
        "vectorbt warm",
        [PYTHON, "-m", "bench.peers", "vectorbt", npz],
        max(1, n - 2),
        env=env,
        say=say,
    )
    peers["vectorbt_warm"] = summary(warm) | {"outputs": [last_json(r.stdout) for r in warm.runs]}
    clock = time.perf_counter()
    ref = reference_backtest(data / CANDLES_5M)
    peers["reference"] = {
        "trade_count": ref.trade_count,
        "final_equity": str(ref.final_equity),
        "ties": ref.ties,
        "open_at_end": ref.open_at_end,
        "last_open": float(frame["open"].iloc[-1]),
        "last_close": float(frame["close"].iloc[-1]),
        "seconds": time.perf_counter() - clock,
    }
    results["peers"] = peers


def bench_breakdown(home: Path, n: int, results: dict[str, Any]) -> None:
    """Candlewick's steps one by one, import times per package, import footprints."""
    env = _env(home)
    say("candlewick's steps, one by one ...")
    results["phases_5m"] = phases(SMA_CONFIG, env, n)
    check = (
        "import sys; from pathlib import Path; from candlewick.config.loader import "
        f"load_trading_config; load_trading_config(Path({str(SMA_CONFIG)!r})); "
        "print(', '.join(m for m in ('pandas', 'pyarrow', 'sqlalchemy', 'talib') "
        "if m in sys.modules) or 'none')"
    )
    loaded = run_process([PYTHON, "-c", check], env=env).stdout.strip()
    results["config_load_imports"] = loaded
    say("python -X importtime candlewick backtest ...")
    cli = (
        f"import sys; sys.argv = ['candlewick', 'backtest', '--config', {str(SMA_CONFIG)!r}]; "
        "from candlewick.cli.main import main; main()"
    )
    results["importtime"] = import_times(["-c", cli], env)
    say("import footprint of each library alone ...")
    modules = FOOTPRINT_MODULES if "peers" in results else FOOTPRINT_MODULES[:-2]
    foot = import_footprints(modules, env, times=max(1, min(n, 3)))
    results["footprints"] = {m or "(bare interpreter)": v for m, v in foot.items()}


def phases(config: Path, env: dict[str, str], n: int, save: bool = True) -> dict[str, Any]:
    """Median seconds and memory of each step over ``n`` probe runs."""
    runs = []
    for _ in range(n):
        probe = run_process(
            [PYTHON, "-m", "bench.probes", "phases", config, "save" if save else "no-save"],
            env=env,
        )
        found = last_json(probe.stdout)
        found["phases"] = {
            "interpreter start-up (to the probe's first line)": found["begun"] - probe.spawned,
            **found["phases"],
            "process exit" + exit_kind(found): probe.reaped - found["ended"],
        }
        runs.append(found | {"wall_s": probe.wall_s, "rss_mb": probe.peak_rss_mb})
    names = list(runs[0]["phases"])
    return {
        "seconds": {k: statistics.median(r["phases"][k] for r in runs) for k in names},
        "memory": {k: runs[-1]["memory"][k] for k in runs[-1]["memory"]},
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "rss_mb": statistics.median(r["rss_mb"] for r in runs),
        "trade_count": runs[0]["trade_count"],
        "final_equity": runs[0]["final_equity"],
        "exits_hard": runs[0].get("exits_hard", False),
        "bars": runs[0]["bars"],
    }


def exit_kind(found: dict[str, Any]) -> str:
    """How the CLI ends its process, as a label suffix."""
    if found.get("exits_hard"):
        return " (`os._exit`: no interpreter teardown)"
    return " (interpreter teardown of the modules)"


def bench_engine(home: Path, quick: bool, results: dict[str, Any]) -> None:
    """``run_backtest`` alone on BTC/USDT 5m, one core, best of N."""
    say("engine throughput (one core) ...")
    probe = run_process(
        [PYTHON, "-m", "bench.probes", "engine", STOPS_CONFIG, "3" if quick else "9"],
        env=_env(home),
    )
    results["engine"] = last_json(probe.stdout)
    profile: list[str | Path] = [PYTHON, "-m", "bench.probes", "profile", STOPS_CONFIG, "10"]
    probe = run_process(profile, env=_env(home))
    results["engine"]["profile"] = last_json(probe.stdout)


def bench_portfolio(home: Path, data: Path, n: int, results: dict[str, Any]) -> None:
    """Build and import the 20-pair data set, then time the whole CLI on it."""
    from bench.portfolio_data import build_pairs, load_segments, store_pair
    from candlewick.data.store import CandleStore

    say("building the 20-pair 1m data set ...")
    clock = time.perf_counter()
    segments, skipped = load_segments(data / "candles")
    build_s, import_s = time.perf_counter() - clock, 0.0
    store = CandleStore(home / "candles")
    orders = {}
    for name, series in build_pairs(segments, PORTFOLIO_PAIRS):
        orders[name] = [(p.name, p.bars, p.factor) for p in series.parts]
        clock = time.perf_counter()
        store_pair(store, "bench", name, series)
        import_s += time.perf_counter() - clock
    portfolio: dict[str, Any] = {
        "segments": [(s.name, len(s)) for s in segments],
        "skipped": skipped,
        "orders": orders,
        "read_s": build_s,
        "import_s": import_s,
    }
    env = _env(home)
    cmd: list[str | Path] = [CANDLEWICK, "backtest", "--config", PORTFOLIO_CONFIG]
    save = repeat("portfolio backtest", cmd, n, env=env, say=say)
    nosave = repeat("portfolio backtest --no-save", [*cmd, "--no-save"], n, env=env, say=say)
    outcomes = {cli_result(r.stdout) for r in (*save.runs, *nosave.runs)}
    if len(outcomes) != 1:
        raise MeasureError(f"the portfolio backtest gave different results: {outcomes}")
    count, equity = exact_result(cmd, env, outcomes.pop())
    portfolio |= {
        "save": summary(save),
        "nosave": summary(nosave),
        "trade_count": count,
        "final_equity": equity,
    }
    say("portfolio steps, one by one ...")
    portfolio["phases"] = phases(PORTFOLIO_CONFIG, env, 1)
    say("profiling the portfolio engine ...")
    probe = run_process([PYTHON, "-m", "bench.probes", "profile", PORTFOLIO_CONFIG, "12"], env=env)
    portfolio["profile"] = last_json(probe.stdout)
    results["portfolio"] = portfolio


def bench_exchange(results: dict[str, Any]) -> None:
    """The emulator's sustained request rate and the gateway's overhead (bench/exchange.py)."""
    say("exchange layer: emulator request rate, gateway overhead ...")
    probe = run_process([PYTHON, "-m", "bench.exchange"], timeout_s=600)
    results["exchange"] = last_json(probe.stdout)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the Markdown page."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 3 minutes)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--skip-peers", action="store_true", help="no backtesting.py / vectorbt")
    parser.add_argument("--skip-portfolio", action="store_true", help="no 20-pair benchmark")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS",
        help="only write the page again from a saved results file (bench/results/*.json)",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        return write_page(json.loads(args.render.read_text()), args.out)
    n_small, n_big = (2, 1) if args.quick else (5, 3)
    started = time.perf_counter()
    data = shared_data()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "facts": machine_facts(),
        "quick": args.quick,
        "repeats": {"small": n_small, "big": n_big},
        "data_file": str(CANDLES_5M),
        "load": [os.getloadavg()[0]],
    }
    home = Path(tempfile.mkdtemp(prefix="candlewick-bench-"))
    try:
        bench_single_pair(home, data, n_small, results)
        if not args.skip_peers:
            bench_peers(home, data, n_small, results)
        bench_breakdown(home, n_small, results)
        bench_engine(home, args.quick, results)
        bench_exchange(results)
        if not args.skip_portfolio:
            bench_portfolio(home, data, n_big, results)
    finally:
        if args.keep:
            say(f"temporary home kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    results["bench_seconds"] = time.perf_counter() - started
    results["load"].append(os.getloadavg()[0])
    RESULTS.mkdir(parents=True, exist_ok=True)  # git-ignored
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for path in (RESULTS / f"{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(results, indent=1))
    say(f"results: {RESULTS / f'{stamp}.json'}")
    return write_page(results, args.out)


def write_page(results: dict[str, Any], out: Path) -> int:
    """Render the Markdown page from ``results`` into ``out``."""
    from bench.report import render

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results))
    say(f"wrote {out} (the measurements took {results['bench_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
