"""``candlewick list ...`` and ``candlewick --version`` through the installed console script."""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(None, *args, timeout=120)


def test_version_prints_the_installed_version() -> None:
    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"candlewick {version('candlewick')} (Python ")


@pytest.mark.parametrize(
    ("kind", "name", "params"),
    [
        ("indicators", "bbands", {"period": 20, "stddev": 2.0}),
        ("setups", "ma_cross", {"fast": "sma_fast", "slow": "sma_slow"}),
        ("filters", "volume", None),
        ("sizing", "risk_percent", {"risk": None}),
    ],
)
def test_list_names_every_registered_function_with_its_params(
    kind: str, name: str, params: dict[str, object] | None
) -> None:
    done = run("list", kind, "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert name in rows and rows[name]["what"]
    if params is not None:
        assert rows[name]["params"] == params
    table = run("list", kind)
    assert table.returncode == 0 and name in table.stdout


def test_list_with_a_config_shows_its_plugins(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(
        "from candlewick.signals.setups import SetupSignals, setup\n"
        "@setup('always_in_test', defaults={'level': 3})\n"
        "def always(frame, params):\n"
        "    '''Enter on every bar (a plugin for the list test).'''\n"
        "    import numpy as np\n"
        "    n = len(frame)\n"
        "    return SetupSignals(np.ones(n, bool), np.zeros(n, bool))\n"
    )
    example = Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml"
    text = example.read_text().replace("setups:", "plugins: [mine.py]\nsetups:", 1)
    (tmp_path / "cfg.yaml").write_text(text)
    done = run("list", "setups", "--config", str(tmp_path / "cfg.yaml"), "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["always_in_test"]["params"] == {"level": 3}
    assert "plugin for the list test" in rows["always_in_test"]["what"]
