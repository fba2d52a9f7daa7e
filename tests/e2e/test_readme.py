"""Every command block of the README runs literally, in order, on a fresh home.

The checkout's files are copied into a temporary workspace (beside a link to the shared data,
as ``../shared`` is beside a clone), with this checkout's virtualenv linked in; the README's
``bash`` blocks are joined into one script (``set -euo pipefail``) and run there with a fresh
``CANDLEWICK_HOME``. Left out, each for a stated reason (:data:`NOT_RUN`): the commands that
run this very test suite or the benchmarks (minutes each; CI and ``./dev.sh bench`` run them).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from candlewick.paths import shared_data_dir

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")

#: README lines not run here, and why.
NOT_RUN = {
    "./dev.sh test": "this is the test suite running this test",
    "./dev.sh test -k engine": "runs the suite's linters and tests again (the suite runs them)",
    "./dev.sh bench": "the benchmarks take minutes; `./dev.sh bench` writes docs/benchmarks.md",
}


def bash_blocks(readme: str) -> list[list[str]]:
    """The README's ```bash blocks as command lines (continuations joined, comments kept)."""
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    out = []
    for block in blocks:
        lines: list[str] = []
        pending = ""
        for raw in block.splitlines():
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            lines.append(pending + raw)
            pending = ""
        out.append([line for line in lines if line.strip()])
    return out


def command_of(line: str) -> str:
    """The command of a README line without its trailing comment."""
    return re.sub(r"\s+#.*$", "", line).strip()


def workspace(tmp_path: Path) -> Path:
    """A copy of the checkout's files (tracked and new, not ignored), ``../shared`` beside it."""
    assert SHARED is not None
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    checkout = tmp_path / "work" / "candlewick"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = checkout / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    link_virtualenv(checkout / ".venv")
    (tmp_path / "work" / "shared").symlink_to(SHARED.parent)
    return checkout


def link_virtualenv(target: Path) -> None:
    """This checkout's virtualenv seen from the copy, without letting ``dev.sh`` touch it.

    Its parts are linked into a folder of the copy's own, beside the install stamp ``dev.sh``
    looks for (written here): a missing stamp would make ``dev.sh`` reinstall the package,
    editable, from the temporary copy into the shared virtualenv.
    """
    target.mkdir()
    for part in (ROOT / ".venv").iterdir():
        if not part.name.startswith(".candlewick-"):
            (target / part.name).symlink_to(part)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (target / f".candlewick-{digest}-dev").touch()  # as dev.sh names it


def test_bash_blocks_are_found_and_exclusions_exist() -> None:
    blocks = bash_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 4
    commands = {command_of(line) for block in blocks for line in block}
    assert set(NOT_RUN) <= commands, "an exclusion no longer matches a README line"
    assert blocks[0] == [line for line in blocks[0] if line.startswith("./dev.sh ")]


def test_the_readme_runs_as_written(tmp_path: Path) -> None:
    checkout = workspace(tmp_path)
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for block in bash_blocks((checkout / "README.md").read_text()):
        for line in block:
            command = command_of(line)
            if command in NOT_RUN or not command or command.startswith("#"):
                continue
            script += [f"echo {shlex.quote('+ ' + command)}", line]
    home = tmp_path / "home"
    env = dict(os.environ, CANDLEWICK_HOME=str(home), BROWSER="true", COLUMNS="200")
    for name in ("CANDLEWICK_DB_URL", "CANDLEWICK_SHARED_DATA", "VIRTUAL_ENV"):
        env.pop(name, None)
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "Traceback" not in out
    # what the blocks promise happened
    assert "trades: 3,114" in " ".join(out.split())
    assert "1,440 new bar(s)" in out  # the download from the emulator brought a day of 1m
    assert (checkout / "out.json").is_file() and (checkout / "trading-config.schema.json").is_file()
    assert any((home / "reports").glob("*.html"))
    assert "lookahead check BTC/USDT: clean" in out
