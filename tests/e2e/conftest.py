"""End-to-end helpers: the real ``candlewick`` entry point in a subprocess, on a fresh home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    home: Path | None,
    *args: str,
    timeout: float = 300,
    columns: int = 200,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m candlewick ARGS`` with ``CANDLEWICK_HOME=home`` (and no database URL from
    the caller's environment), bounded by ``timeout`` seconds; output captured as text."""
    full = dict(os.environ, COLUMNS=str(columns))
    full.pop("CANDLEWICK_DB_URL", None)
    if home is not None:
        full["CANDLEWICK_HOME"] = str(home)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "candlewick", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
