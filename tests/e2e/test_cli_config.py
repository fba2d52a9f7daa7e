"""Bad configs through the real CLI: `config validate` and `backtest` both print one short
message naming the file, the field and the fix, exit 2, never a traceback, never hang."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import run_cli
from tests.unit.test_config_secrets import BINANCE_KEY
from tests.unit.test_config_yaml import alias_bomb

EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml").read_text()
HEAD = "name: x\npairs: [BTC/USDT]\nsetups: [{name: ma_cross}]\n"


def example(old: str, new: str) -> bytes:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new).encode()


def sizing(method: str, params: str, risk: str = "") -> bytes:
    return example("sizing:\n  method: all_in", f"{risk}sizing:\n  method: {method}\n  {params}")


CASES: dict[str, tuple[bytes, list[str]]] = {
    "alias bomb": ((HEAD + alias_bomb(9)).encode(), ["aliases expand to more than 20,000"]),
    "recursive alias": ((HEAD + "x: &x [*x]\n").encode(), ["refers to itself"]),
    "not utf-8": (b"name: caf\xe9\n", ["line 1, column 10: not UTF-8", "save the file as UTF-8"]),
    "deep nesting": (
        f"name: x\npairs: {'[' * 3000}{']' * 3000}\n".encode(),
        ["line 2", "nested deeper than 32 levels"],
    ),
    "absurd timeframe": (
        example("timeframe: 5m", "timeframe: 99999999999999999999999m"),
        ["line 8, timeframe: timeframe '99999999999999999999999m' is not supported"],
    ),
    "weekly multiple": (
        example("timeframe: 5m", "timeframe: 100000w"),
        ["timeframe: timeframe '100000w' is not supported: use one of 1m, 3m"],
    ),
    "duplicate key": (
        example("timeframe: 5m", "timeframe: 5m\ntimeframe: 1h"),
        ["line 9, column 1: duplicate key 'timeframe' (first at line 8)"],
    ),
    "true as a number": (
        example("backtest:", "risk: {time_stop_bars: true}\nbacktest:"),
        ["risk.time_stop_bars: a number is expected here, not true/false"],
    ),
    "huge period": (
        example("backtest:", "risk: {time_stop_bars: 1000000000000000000000000000000}\nbacktest:"),
        ["risk.time_stop_bars: Input should be less than or equal to 1000000"],
    ),
    "fraction 5.0": (
        sizing("equity_fraction", "params: {fraction: 5.0}"),
        ["sizing.params.fraction must be a number in (0, 1], got 5.0"],
    ),
    "risk 2.0": (
        sizing("risk_percent", "params: {risk: 2.0}", "risk: {stop_loss_pct: 0.02}\n"),
        ["sizing.params.risk must be a number in (0, 0.1], got 2.0"],
    ),
    "amount 0": (
        sizing("fixed_quote", "params: {amount: 0}"),
        ["sizing.params.amount must be a number in (0, 1000000000000], got 0"],
    ),
    "thousands of setups": (
        example(
            "  - name: ma_cross\n    params: {fast: sma_fast, slow: sma_slow}",
            "  - {name: ma_cross}\n" * 5000,
        ),
        ["setups: List should have at most 32 items"],
    ),
    "missing column": (
        example("slow: sma_slow}", "slow: sma_slw}"),
        ["setups[0]: setup 'ma_cross': param 'slow' names column 'sma_slw'"],
    ),
    "impossible date": (
        example("  initial_cash: 10000", "  initial_cash: 10000\n  start: 2024-02-30"),
        ["line 24, column 10: '2024-02-30' is not a valid date or time"],
    ),
    "endless number": (
        example("period: 10}", "period: " + "9" * 5000 + "}"),
        ["a number 5000 characters long"],
    ),
    "secret value": (
        example("name: sma_cross", f"name: {BINANCE_KEY}"),
        ["line 4, name: secrets must not be written", "environment variable", ".env.example"],
    ),
}


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, timeout=60, columns=250)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_config_gives_one_clear_message(tmp_path: Path, case: str) -> None:
    content, fragments = CASES[case]
    path = tmp_path / "bad {config}.yaml"
    path.write_bytes(content)
    for args in (["config", "validate", str(path)], ["backtest", "--config", str(path)]):
        done = run(tmp_path / "home", *args)
        output = done.stdout + done.stderr
        assert done.returncode == 2, output
        assert "Traceback" not in output
        message = " ".join(output.split())  # Rich may still wrap a long line
        assert f"error: {path}:" in message
        for fragment in fragments:
            assert fragment in message, (fragment, output)
        assert len(output.splitlines()) <= 20, output
    assert not (tmp_path / "home" / "candlewick.db").exists()


def test_missing_file_is_named(tmp_path: Path) -> None:
    done = run(tmp_path, "config", "validate", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "nope.yaml: no such file (check the path)" in done.stderr


def test_good_config_still_validates(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(EXAMPLE)
    done = run(tmp_path, "config", "validate", str(path))
    assert done.returncode == 0, done.stderr
    assert "ok " in done.stdout and "'sma_cross'" in done.stdout
    assert "strategy built and run on sample candles" in " ".join(done.stdout.split())
