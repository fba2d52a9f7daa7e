"""The CLI end to end, in subprocesses: demo, backtest, lookahead check, runs, report, errors."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from candlewick.paths import shared_data_dir
from tests.e2e.conftest import run_cli

SHARED = shared_data_dir()
EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml")
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")

PEEKING_PLUGIN = '''
from candlewick.signals import SetupSignals, setup


@setup("peeking", defaults={})
def peeking(frame, params):
    """Reads the next bar's close: a lookahead bug on purpose."""
    close = frame["close"]
    up = (close.shift(-1) > close).to_numpy()
    return SetupSignals(up, ~up)
'''

# A filter that reads the future and only ever removes entries.
FUTURE_FILTER_PLUGIN = '''
from candlewick.signals import filter_, verdict


@filter_("drops_before_a_fall", defaults={})
def drops_before_a_fall(frame, entries, params):
    """Rejects an entry when the next close is lower."""
    close = frame["close"]
    falls = (close.shift(-1) < close).to_numpy()
    return verdict(entries, ~falls, lambda i: "the next close is lower")
'''

# Memoises its (future-reading) signals on the first, longest history it is given.
MEMO_PLUGIN = '''
from candlewick.signals import SetupSignals, setup

_memo = {}


@setup("memo_peek", defaults={})
def memo_peek(frame, params):
    """Next close higher, computed once per series and sliced afterwards."""
    key = int(frame["timestamp"].iloc[0])
    if key not in _memo or len(_memo[key]) < len(frame):
        close = frame["close"]
        _memo[key] = (close.shift(-1) > close).to_numpy()
    up = _memo[key][: len(frame)]
    return SetupSignals(up, ~up)
'''

XRP_CONFIG = """
name: {name}
pairs: [XRP/USDT]
timeframe: 5m
plugins: [{plugins}]
indicators:
  - {{id: sma_fast, name: sma, params: {{period: 10}}}}
  - {{id: sma_slow, name: sma, params: {{period: 30}}}}
setups:
  - name: {setup}
    params: {params}
filters: {filters}
"""


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, columns=160, env={"CANDLEWICK_SHARED_DATA": str(SHARED)})


def test_demo_backtests_the_reference_and_writes_the_report(tmp_path: Path) -> None:
    demo = run(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "imported just now from" in demo.stdout
    assert "trades: 3,114" in demo.stdout
    assert "final equity: 20.67 USDT" in demo.stdout
    reports = list((tmp_path / "reports").glob("*.html"))
    assert len(reports) == 1
    run_id = reports[0].stem
    assert f"run id {run_id}" in demo.stdout

    listed = run(tmp_path, "runs", "list")
    assert listed.returncode == 0 and run_id in listed.stdout

    out = tmp_path / "report.json"
    report = run(tmp_path, "report", run_id, "--format", "json", "--out", str(out))
    assert report.returncode == 0, report.stderr
    doc = json.loads(out.read_text())
    assert len(doc["trades"]) == 3114

    again = run(tmp_path, "backtest", "--config", EXAMPLE, "--no-save")
    assert again.returncode == 0, again.stderr
    assert "read from the local candle store" in again.stdout
    assert "trades: 3,114" in again.stdout


def _xrp_config(
    tmp_path: Path, name: str, setup: str, params: str, plugins: str = "", filters: str = "[]"
) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        XRP_CONFIG.format(name=name, setup=setup, params=params, plugins=plugins, filters=filters)
    )
    return path


@pytest.mark.parametrize(
    ("plugin", "setup"),
    [(PEEKING_PLUGIN, "peeking"), (MEMO_PLUGIN, "memo_peek")],
    ids=["reads the next bar", "hides it behind state kept between calls"],
)
def test_check_lookahead_catches_a_setup_reading_the_future(
    tmp_path: Path, plugin: str, setup: str
) -> None:
    (tmp_path / f"{setup}.py").write_text(plugin)
    config = _xrp_config(tmp_path, setup, setup, "{}", plugins=f"{setup}.py")
    result = run(tmp_path, "backtest", "-c", str(config), "--check-lookahead", "--no-save")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "lookahead check XRP/USDT:" in result.stdout
    assert "signal(s) change when the future is cut off" in result.stdout


def test_check_lookahead_passes_a_clean_strategy(tmp_path: Path) -> None:
    config = _xrp_config(tmp_path, "clean", "ma_cross", "{fast: sma_fast, slow: sma_slow}")
    result = run(tmp_path, "backtest", "-c", str(config), "--check-lookahead", "--no-save")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lookahead check XRP/USDT: clean" in result.stdout
    assert re.search(
        r"\d+ truncated histories \(\d+ after kept signals, \d+ after rejected", result.stdout
    )
    seed = re.search(r"seed (\d+)\)", result.stdout)
    assert seed is not None and f"--lookahead-seed {seed[1]}" in result.stdout


def test_a_run_failing_the_lookahead_check_is_stored_marked(tmp_path: Path) -> None:
    (tmp_path / "future_filter.py").write_text(FUTURE_FILTER_PLUGIN)
    config = _xrp_config(
        tmp_path,
        "removes",
        "ma_cross",
        "{fast: sma_fast, slow: sma_slow}",
        plugins="future_filter.py",
        filters="[{name: drops_before_a_fall}]",
    )
    out = tmp_path / "out.json"
    args = ("-c", str(config), "--check-lookahead", "--lookahead-seed", "42", "--html")
    result = run(tmp_path, "backtest", *args, "--json", str(out))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "(after rejected entries)" in result.stdout  # what caught it
    assert "seed 42)" in result.stdout
    run_id = re.search(r"run id (\w+)", result.stdout)
    assert run_id is not None
    assert "stored marked lookahead_failed" in result.stdout

    listed = run(tmp_path, "runs", "list")
    row = next(line for line in listed.stdout.splitlines() if run_id[1] in line)
    assert "✗ lookahead" in row
    doc = json.loads(out.read_text())
    assert doc["status"] == "lookahead_failed"
    pair = doc["checks"]["lookahead"]["pairs"]["XRP/USDT"]
    assert pair["cuts_by_kind"]["rejected"] > 0 and pair["differences"] > 0
    assert pair["seed"] == 42
    page = (tmp_path / "reports" / f"{run_id[1]}.html").read_text()
    assert 'class="banner"' in page and "FAILED the lookahead check" in page


def test_bad_config_is_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    config = _xrp_config(tmp_path, "bad", "ma_cros", "{fast: sma_fast, slow: sma_slow}")
    result = run(tmp_path, "config", "validate", str(config))
    assert result.returncode == 2
    assert "setups[0].name: unknown setup 'ma_cros'. did you mean 'ma_cross'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    good = run(tmp_path, "config", "validate", EXAMPLE)
    assert good.returncode == 0 and "ok" in good.stdout


def test_unknown_run_id_is_a_clear_message(tmp_path: Path) -> None:
    result = run(tmp_path, "report", "feedbeef")
    assert result.returncode == 2
    assert "candlewick runs list" in result.stderr
    assert "Traceback" not in result.stderr
