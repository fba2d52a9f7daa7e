"""Child probes: each runs in a fresh interpreter and prints one JSON object.

* ``python -m bench.probes engine CONFIG REPEATS``: bars per second of ``run_backtest``
  alone, pinned to one core, best of REPEATS in-process runs, with and without the config's
  stops;
* ``python -m bench.probes profile CONFIG TOP``: the TOP functions ``run_backtest`` spends its
  own time in (cProfile);
* ``python -m bench.probes phases CONFIG save|no-save``: ``candlewick backtest`` through its
  real entry point, each step timed, with the resident memory after it.

Top-level imports are the standard library only, so that a probe's first step measures
Candlewick's imports and nothing of ours.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import math
import os
import re
import statistics
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class _ProcessExit(BaseException):
    """The CLI called ``os._exit``: held back until the probe has printed its result."""


class _Steps:
    """Seconds and memory of named steps; wraps functions so that calls to them are timed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.memory: dict[str, tuple[float, float]] = {}  # (RSS after, peak RSS so far), MB
        self.clock = time.perf_counter()

    def lap(self, name: str) -> None:
        """Close the step ``name``: the time since the previous lap."""
        now = time.perf_counter()
        self.add(name, now - self.clock)
        self.clock = now

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to step ``name`` and note the memory now."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.memory[name] = _rss_now_and_peak()

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        """Replace ``owner.attr`` by a wrapper that adds each call's time to step ``name``."""
        inner = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            clock = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - clock)

        setattr(owner, attr, timed)


class _StorageImport(importlib.abc.MetaPathFinder):
    """Times the import of ``candlewick.storage`` where the CLI does it (only when it saves,
    after the metrics), then wraps the functions of the save with timers."""

    def __init__(self, steps: _Steps) -> None:
        self.steps = steps

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "candlewick.storage":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _TimedLoader(fullname, spec.loader.path, self.steps)
        return spec


class _TimedLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, steps: _Steps) -> None:
        super().__init__(fullname, path)
        self.steps = steps

    def exec_module(self, module: types.ModuleType) -> None:
        clock = time.perf_counter()
        super().exec_module(module)
        seconds = time.perf_counter() - clock
        self.steps.add("import storage (sqlalchemy), when the run is saved", seconds)
        from candlewick.storage import db, runs

        self.steps.wrap(db, "open_database", "open the database (migration check)")
        self.steps.wrap(runs.RunRepository, "save", "save the run (trades, equity curve)")


def _probe_phases(config_path: Path, save: bool) -> dict[str, Any]:
    """``candlewick backtest`` run in-process through its real entry point, step by step.

    The modules a backtest needs before its data are imported first (each group timed);
    SQLAlchemy is imported where the CLI imports it (only when saving, after the metrics).
    The functions ``run_and_report`` calls are wrapped with timers (they run unchanged) and
    the CLI's ``main()`` runs with its output sent to /dev/null. What the wrappers do not cover
    is the CLI's own work: argument parsing, the progress bar, printing.
    """
    steps = _Steps()
    from candlewick.cli import main as cli_main

    cli_main._register(["candlewick", "backtest"])  # what `candlewick backtest` registers
    steps.lap("import the CLI (typer, rich, the backtest command)")
    from candlewick.config import loader

    steps.lap("import the config models (pydantic, yaml)")
    for name in (  # what the config check imports
        "candlewick.indicators.library",
        "candlewick.risk.sizing",
        "candlewick.signals.filters",
        "candlewick.signals.setups",
    ):
        importlib.import_module(name)
    steps.lap("import the registries (pandas, pyarrow, talib)")
    importlib.import_module("candlewick.data.sources")
    from candlewick.core import metrics
    from candlewick.modes import backtest
    from candlewick.report import terminal

    steps.lap("import the candle store, pipeline and metrics")
    sys.meta_path.insert(0, _StorageImport(steps))
    outcome: dict[str, Any] = {}
    job, engine = backtest.run_backtest_job, backtest.run_backtest  # type: ignore[attr-defined]
    at_engine_start = [(math.nan, math.nan)]

    def run_engine(*args: Any, **kwargs: Any) -> Any:
        at_engine_start[0] = _rss_now_and_peak()  # the memory once all signals are computed
        return engine(*args, **kwargs)

    def run_job(*args: Any, **kwargs: Any) -> Any:
        result, timings = job(*args, **kwargs)
        steps.add("indicators and signals", timings["signals"])
        steps.add("engine (run_backtest)", timings["engine"])
        steps.memory["indicators and signals"] = at_engine_start[0]
        outcome.update(trades=len(result.trades), equity=str(result.final_equity), bars=result.bars)
        return result, timings

    steps.wrap(loader, "load_trading_config", "load and validate the config")
    steps.wrap(backtest, "load_candles", "read candles from the store")
    backtest.run_backtest_job = run_job
    backtest.run_backtest = run_engine  # type: ignore[attr-defined]
    steps.wrap(metrics, "compute_metrics", "metrics")
    steps.wrap(metrics, "per_pair_metrics", "metrics")
    steps.wrap(terminal, "print_summary", "summary tables")
    argv = ["candlewick", "backtest", "--config", str(config_path)]
    sys.argv = argv if save else [*argv, "--no-save"]
    exit_code: list[int] = []  # set when the CLI ends the process with os._exit
    real_exit = os._exit

    def held_exit(code: int) -> None:
        exit_code.append(code)
        raise _ProcessExit

    before = sum(steps.seconds.values())  # the imports above
    clock = time.perf_counter()
    with Path(os.devnull).open("w") as sink:
        saved, sys.stdout, os._exit = sys.stdout, sink, held_exit  # type: ignore[assignment]
        try:
            cli_main.main()
        except SystemExit as done:
            if done.code:
                raise
        except _ProcessExit:
            if exit_code[0]:
                raise SystemExit(exit_code[0]) from None
        finally:
            sys.stdout, os._exit = saved, real_exit
    covered = sum(steps.seconds.values()) - before  # the steps inside the CLI's run
    glue = time.perf_counter() - clock - covered
    steps.add("CLI: argument parsing, progress bar, printing", glue)
    return {
        "phases": steps.seconds,
        "memory": steps.memory,
        "exits_hard": bool(exit_code),  # the probe then ends the same way
        "trade_count": outcome["trades"],
        "final_equity": outcome["equity"],
        "bars": outcome["bars"],
    }


def _rss_now_and_peak() -> tuple[float, float]:
    """This process's resident set now and its high-water mark, MB (Linux)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    try:
        statm = Path("/proc/self/statm").read_text().split()
    except OSError:
        statm = []
    now = int(statm[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20 if len(statm) > 1 else math.nan
    return now, max(now, peak)  # the kernel updates the high-water mark lazily


def _prepared(config_path: Path) -> tuple[Any, list[Any], int]:
    """The config, each pair's engine input (candles and signals) and the bar count."""
    from candlewick.config.loader import load_trading_config
    from candlewick.data.store import CandleStore
    from candlewick.modes.backtest import load_candles
    from candlewick.modes.strategy import build_pair_frame, pair_data, pair_signals, strategy_specs
    from candlewick.paths import candle_store_dir

    config = load_trading_config(config_path)
    candles = load_candles(config, CandleStore(candle_store_dir())).candles
    specs = strategy_specs(config)
    pairs = []
    for series in candles.values():
        frame = build_pair_frame(config, specs, series)
        pairs.append(pair_data(config, series, frame, pair_signals(specs, frame)))
    return config, pairs, sum(len(c) for c in candles.values())


def _probe_engine(config_path: Path, repeats: int) -> dict[str, Any]:
    """Bars/s of ``run_backtest`` on one core: the config as given and without its stops."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import gc

    from candlewick.backtest.engine import run_backtest
    from candlewick.modes.strategy import backtest_settings

    config, pairs, bars = _prepared(config_path)
    no_stops = config.risk.model_copy(
        update={"stop_loss_pct": None, "take_profit_pct": None, "trailing_stop_pct": None}
    )
    variants = {
        "with stops": config,
        "without stops": config.model_copy(update={"risk": no_stops}),
    }
    found: dict[str, Any] = {"bars": bars, "pairs": len(pairs)}
    for name, variant in variants.items():
        settings = backtest_settings(variant)
        times = []
        for _ in range(repeats):
            gc.collect()
            clock = time.perf_counter()
            result = run_backtest(pairs, settings)
            times.append(time.perf_counter() - clock)
        found[name] = {
            "best_s": min(times),
            "median_s": statistics.median(times),
            "bars_per_s": bars / min(times),
            "trade_count": len(result.trades),
            "final_equity": str(result.final_equity),
        }
    return found


def _probe_profile(config_path: Path, top: int) -> dict[str, Any]:
    """The functions ``run_backtest`` spends most of its own time in (cProfile)."""
    import cProfile
    import pstats

    from candlewick.backtest.engine import run_backtest
    from candlewick.modes.strategy import backtest_settings

    config, pairs, bars = _prepared(config_path)
    settings = backtest_settings(config)
    profiler = cProfile.Profile()
    profiler.runcall(run_backtest, pairs, settings)
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, name), entry in stats.stats.items():  # type: ignore[attr-defined]
        calls, tottime, cumtime = entry[1], entry[2], entry[3]
        where = f"{Path(file).name}:{line}({name})" if line else re.sub(r" at 0x\w+", "", name)
        rows.append((where, calls, tottime, cumtime))
    rows.sort(key=lambda r: -r[2])
    total = sum(r[2] for r in rows)
    return {"bars": bars, "total_s": total, "top": rows[:top]}


def main(argv: list[str]) -> int:
    """``python -m bench.probes engine CONFIG REPEATS``, ``profile CONFIG TOP`` or
    ``phases CONFIG save|no-save``."""
    if len(argv) == 3 and argv[0] == "engine":
        print(json.dumps(_probe_engine(Path(argv[1]), int(argv[2]))))
        return 0
    if len(argv) == 3 and argv[0] == "profile":
        print(json.dumps(_probe_profile(Path(argv[1]), int(argv[2]))))
        return 0
    if len(argv) == 3 and argv[0] == "phases" and argv[2] in ("save", "no-save"):
        begun = time.monotonic()
        found = _probe_phases(Path(argv[1]), argv[2] == "save")
        print(json.dumps(found | {"begun": begun, "ended": time.monotonic()}), flush=True)
        if found["exits_hard"]:  # as the CLI does: no interpreter teardown
            sys.stderr.flush()
            os._exit(0)
        return 0
    print(
        "usage: python -m bench.probes engine CONFIG REPEATS | profile CONFIG TOP"
        " | phases CONFIG save|no-save",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
