"""A report write that dies half-way leaves the previous report whole, never a truncated file.

The writer runs in a subprocess whose file-size limit (RLIMIT_FSIZE) is below the size of the
new report: the kernel stops it in the middle of the write, exactly as a kill or a full disk
would, whatever the writer's code looks like. With SIGXFSZ at its default action the process
dies on the spot (no clean-up code runs); ignored, the write fails with EFBIG instead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from candlewick.core.metrics import compute_metrics, per_pair_metrics
from candlewick.report.html import write_html
from candlewick.report.json_report import write_json
from tests.integration.conftest import make_run_record

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 256 * 1024  # bytes a file may grow to in the writer; the new reports are larger

# Everything is built before the limit is set, so that only the report's write can hit it.
WRITER = """
import resource, signal, sys
from pathlib import Path
from candlewick.core.metrics import compute_metrics, per_pair_metrics
from candlewick.report.html import write_html
from candlewick.report.json_report import write_json
from tests.integration.conftest import make_run_record

fmt, path, action = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
record = make_run_record(n_trades=3000, name="the new run")
metrics, per_pair = compute_metrics(record.result), per_pair_metrics(record.result)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL if action == "die" else signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))
if fmt == "json":
    write_json(path, record, metrics, per_pair)
else:
    write_html(path, record.result, metrics, per_pair, {{}}, "the new run")
"""


def write_in_subprocess(fmt: str, path: Path, action: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(WRITER.format(limit=LIMIT))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-c", code, fmt, str(path), action],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_old(fmt: str, path: Path) -> bytes:
    record = make_run_record(n_trades=2, name="the old run")
    metrics, per_pair = compute_metrics(record.result), per_pair_metrics(record.result)
    if fmt == "json":
        write_json(path, record, metrics, per_pair)
    else:
        write_html(path, record.result, metrics, per_pair, {}, "the old run")
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_a_writer_killed_mid_write_leaves_the_old_report_whole(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "reports" / f"run.{fmt}"
    old = write_old(fmt, path)
    done = write_in_subprocess(fmt, path, "die")
    assert done.returncode == -signal.SIGXFSZ, done.stderr  # killed in the middle of the write
    assert path.read_bytes() == old

    # The dead writer's temporary file is removed by the next write of the same report.
    write_old(fmt, path)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    old = write_old("json", path)
    done = write_in_subprocess("json", path, "fail")
    assert done.returncode == 1
    assert "File too large" in done.stderr
    assert path.read_bytes() == old
    assert json.loads(old)["run"]["name"] == "the old run"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
