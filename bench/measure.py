"""Measuring tools: whole processes (wall time, peak RSS), machine facts, import costs.

A measured process runs on its own: :func:`run_process` has a bare launcher interpreter spawn
it, wait for it with ``os.wait4`` (whose rusage gives the child's peak resident set,
``ru_maxrss``) and time it with ``time.perf_counter``. Repeats are summarised by median and
minimum. The probes that run inside a child process are in :mod:`bench.probes`.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
PAGE = "docs/benchmarks.md"  # what python -m bench writes


@dataclass(frozen=True, slots=True)
class ProcessRun:
    """One finished child process."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    spawned: float = 0.0  # time.monotonic() (system-wide) just before the spawn
    reaped: float = 0.0  # and just after the reap


@dataclass(frozen=True, slots=True)
class Repeated:
    """The runs of one command, summarised."""

    label: str
    runs: tuple[ProcessRun, ...]

    @property
    def walls(self) -> list[float]:
        """Wall times of the runs, seconds."""
        return [r.wall_s for r in self.runs]

    @property
    def median_wall(self) -> float:
        """Median wall time, seconds."""
        return statistics.median(self.walls)

    @property
    def min_wall(self) -> float:
        """Fastest run, seconds."""
        return min(self.walls)

    @property
    def median_rss(self) -> float:
        """Median peak RSS, MB."""
        return statistics.median(r.peak_rss_mb for r in self.runs)

    @property
    def max_rss(self) -> float:
        """Largest peak RSS, MB."""
        return max(r.peak_rss_mb for r in self.runs)


class MeasureError(RuntimeError):
    """A measured process failed: the benchmark cannot go on with a wrong figure."""


# The launcher between us and a measured command. ru_maxrss survives fork and exec on Linux, so
# a child forked straight from this (large) process would report our memory as its own peak;
# a bare interpreter (python -S, about 9 MB) spawns the command instead and reports its usage.
_LAUNCHER = """
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
spawned, clock = time.monotonic(), time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
wall, reaped = time.perf_counter() - clock, time.monotonic()
with open(out, "w") as f:
    code = os.waitstatus_to_exitcode(status)
    f.write("%r %d %d %r %r" % (wall, usage.ru_maxrss, code, spawned, reaped))
"""


def run_process(
    cmd: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
    timeout_s: float = 900.0,
    check: bool = True,
) -> ProcessRun:
    """Run ``cmd`` to completion; wall time from spawn to reap, peak RSS from ``wait4``.

    Both are taken by a minimal launcher process (see ``_LAUNCHER``), so neither includes
    the launcher's own start-up, and the peak RSS is the command's alone (the launcher's
    9 MB is a floor no Python command goes below anyway).
    """
    import signal
    import tempfile

    with (
        Path(os.devnull).open("rb") as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        report = Path(scratch) / "usage"
        launcher = subprocess.Popen(
            [PYTHON, "-S", "-c", _LAUNCHER, report, *(str(c) for c in cmd)],
            stdin=stdin,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        try:
            launcher.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
            raise MeasureError(f"`{_shown(cmd)}` took longer than {timeout_s:.0f} s") from None
        out.seek(0)
        err.seek(0)
        stdout, stderr = (f.read().decode(errors="replace") for f in (out, err))
        if launcher.returncode != 0 or not report.exists():
            raise MeasureError(f"the launcher of `{_shown(cmd)}` failed:\n{stderr[-3000:]}")
        wall, maxrss_kb, code, spawned, reaped = report.read_text().split()
    run = ProcessRun(
        float(wall),
        int(maxrss_kb) / 1024.0,
        int(code),
        stdout,
        stderr,
        float(spawned),
        float(reaped),
    )
    if check and run.returncode != 0:
        tail = run.stderr[-3000:] + run.stdout[-2000:]
        raise MeasureError(f"`{_shown(cmd)}` exited with {run.returncode}:\n{tail}")
    return run


def _shown(cmd: Sequence[str | Path]) -> str:
    return " ".join(str(c) for c in cmd)


def repeat(
    label: str,
    cmd: Sequence[str | Path],
    times: int,
    *,
    env: Mapping[str, str] | None = None,
    say: Callable[[str], None] = print,
) -> Repeated:
    """Run ``cmd`` ``times`` times in a row (bounded), one process each."""
    runs = []
    for i in range(times):
        run = run_process(cmd, env=env)
        say(f"  {label} #{i + 1}: {run.wall_s:.2f} s, {run.peak_rss_mb:.0f} MB")
        runs.append(run)
    return Repeated(label, tuple(runs))


def last_json(text: str) -> dict[str, Any]:
    """The last line of ``text`` that parses as a JSON object."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise MeasureError(f"no JSON object in the output:\n{text[-2000:]}")


_CLI_RESULT = re.compile(r"trades:\s*([\d,]+)\s+final equity:\s*([0-9.,eE+-]+)")


def cli_result(stdout: str) -> tuple[int, str]:
    """Trade count and final equity as ``candlewick backtest``'s closing line shows them (the
    equity rounded for people; :func:`exact_result` gives it exactly)."""
    found = _CLI_RESULT.findall(stdout)
    if not found:
        raise MeasureError(f"no 'trades: N final equity: X' line in:\n{stdout[-2000:]}")
    count, equity = found[-1]
    return int(count.replace(",", "")), equity.replace(",", "")


def exact_result(
    cmd: Sequence[str | Path], env: Mapping[str, str], shown: tuple[int, str]
) -> tuple[int, str]:
    """Trade count and exact final equity of the backtest ``cmd`` (run once more, unmeasured,
    with ``--no-save --json``), checked against what the measured runs showed."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "run.json"
        run_process([*cmd, "--no-save", "--json", path], env=env)
        doc = json.loads(path.read_text())
    count, equity = len(doc["trades"]), str(doc["result"]["final_cash"])
    close = abs(Decimal(equity) - Decimal(shown[1])) <= max(Decimal("0.005"),
                                                          abs(Decimal(equity)) / 1000)  # fmt: skip
    if count != shown[0] or not close:  # shown: two decimals, or 4 significant digits below 1
        raise MeasureError(f"the JSON report ({count}, {equity}) disagrees with {shown}")
    return count, equity


# -- machine ------------------------------------------------------------------------------
LIBRARIES = (
    "candlewick",
    "numpy",
    "pandas",
    "pyarrow",
    "ta-lib",
    "pydantic",
    "typer",
    "rich",
    "sqlalchemy",
    "alembic",
    "backtesting",
    "vectorbt",
    "numba",
    "llvmlite",
    "scipy",
)


def machine_facts() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and library versions, commit, as short strings."""
    cpuinfo = _read("/proc/cpuinfo")
    model = _first(r"^model name\s*:\s*(.+)$", cpuinfo) or platform.processor() or "?"
    mhz = _first(r"^cpu MHz\s*:\s*([\d.]+)$", cpuinfo)
    flags = _first(r"^flags\s*:\s*(.+)$", cpuinfo) or ""
    simd = ", ".join(f for f in ("avx2", "avx512f") if f in flags.split())
    mem_kb = _first(r"^MemTotal:\s*(\d+)", _read("/proc/meminfo"))
    os_name = _first(r'^PRETTY_NAME="?([^"\n]+)', _read("/etc/os-release")) or platform.system()
    if mhz:
        model += f" ({float(mhz):.0f} MHz" + (f", {simd})" if simd else ")")
    facts = {
        "CPU": model,
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable",
        "RAM": f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb else "?",
        "OS": f"{os_name}, kernel {platform.release()} ({platform.machine()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    facts["libraries"] = ", ".join(versions)
    facts["commit"] = _git_commit()
    return facts


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match[1].strip() if match else None


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            # the page this benchmark rewrites does not make the measured code "uncommitted"
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", f":!{PAGE}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return head + (" (with uncommitted changes)" if dirty else "")


# -- where start-up time and memory go -----------------------------------------------------
def import_times(cmd: Sequence[str | Path], env: Mapping[str, str]) -> list[tuple[str, float]]:
    """Import seconds per top-level package of a Python command run with ``-X importtime``
    (``cmd`` starts after the interpreter), largest first.

    A package's time is the sum of its modules' *self* times, so numpy imported by pandas
    counts for numpy, not for pandas.
    """
    run = run_process([PYTHON, "-X", "importtime", *cmd], env=env)
    totals: dict[str, float] = {}
    for line in run.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$", line)
        if match is not None:
            top = match[2].split(".")[0]
            totals[top] = totals.get(top, 0.0) + int(match[1]) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])


def import_footprints(
    modules: Sequence[str], env: Mapping[str, str], times: int = 3
) -> dict[str, tuple[float, float]]:
    """Median wall seconds and peak RSS (MB) of ``python -c 'import M'`` per module
    (``""`` = the bare interpreter)."""
    found = {}
    for module in modules:
        code = f"import {module}" if module else "pass"
        runs = [run_process([PYTHON, "-c", code], env=env) for _ in range(times)]
        found[module] = (
            statistics.median(r.wall_s for r in runs),
            statistics.median(r.peak_rss_mb for r in runs),
        )
    return found
