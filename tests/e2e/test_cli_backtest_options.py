"""``candlewick backtest`` options a Freqtrade user expects, and the covered-window report.

Each option is checked against the same setting written in the config file: the two runs'
JSON reports must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from candlewick.paths import shared_data_dir
from tests.e2e.conftest import run_cli

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")

CONFIG = """
name: options
pairs: [{pairs}]
timeframe: {timeframe}
indicators:
  - {{id: sma_fast, name: sma, params: {{period: 10}}}}
  - {{id: sma_slow, name: sma, params: {{period: 30}}}}
setups:
  - name: ma_cross
fees: {{taker: {fee}, maker: {fee}}}
backtest: {{initial_cash: {cash}{window}}}
"""


def write_config(folder: Path, name: str, **values: str) -> Path:
    defaults = {"pairs": "BTC/USDT", "timeframe": "5m", "fee": "0.001", "cash": "10000",
                "window": ""}  # fmt: skip
    path = folder / f"{name}.yaml"
    path.write_text(CONFIG.format(**(defaults | values)))
    return path


def report(home: Path, config: Path, *options: str) -> dict[str, object]:
    out = home / f"{config.stem}-{len(options)}.json"
    done = run_cli(home, "backtest", "--config", str(config), "--no-save", "--json", str(out),
                   *options, env={"CANDLEWICK_SHARED_DATA": str(SHARED)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, object] = json.loads(out.read_text())
    return data


def test_options_equal_the_same_settings_written_in_the_config(tmp_path: Path) -> None:
    base = write_config(tmp_path, "base")
    by_options = report(tmp_path, base, "--pairs", "XRP/USDT", "--timeframe", "15m",
                        "--timerange", "20260415-20260420", "--fee", "0.0005",
                        "--initial-cash", "500")  # fmt: skip
    written = write_config(tmp_path, "written", pairs="XRP/USDT", timeframe="15m", fee="0.0005",
                           cash="500", window=", start: 2026-04-15, end: 2026-04-20")  # fmt: skip
    assert by_options == report(tmp_path, written)
    trades = by_options["trades"]
    assert isinstance(trades, list) and trades
    assert all("2026-04-15" <= t["entry_time"][:10] < "2026-04-20" for t in trades)
    assert all(t["pair"] == "XRP/USDT" for t in trades)


def test_an_open_timerange_and_repeated_pairs(tmp_path: Path) -> None:
    base = write_config(tmp_path, "base", pairs="BTC/USDT")
    opened = report(tmp_path, base, "--pairs", "XRP/USDT", "--timerange", "20260420-")
    written = write_config(tmp_path, "w", pairs="XRP/USDT", window=", start: 2026-04-20")
    assert opened == report(tmp_path, written)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--timerange", "2024-06"], ["--timerange", "YYYYMMDD-YYYYMMDD"]),
        (["--timerange", "20240631-"], ["--timerange", "not a date"]),
        (["--timerange", "20240601-", "--start", "2024-06-01"], ["not both"]),
        (["--fee", "0.5"], ["fees.taker", "less than or equal to 0.05", "--fee sets fees.taker"]),
        (["--initial-cash", "0"], ["backtest.initial_cash", "--initial-cash sets"]),
        (["--pairs", "btc-usdt"], ["pairs", "BASE/QUOTE", "--pairs sets pairs"]),
        (["--timeframe", "7m"], ["'7m' is not supported", "--timeframe sets timeframe"]),
        (["--timerange", "20260420-20260415"], ["must be before backtest.end"]),
    ],
)
def test_bad_option_values_name_the_option(
    tmp_path: Path, options: list[str], words: list[str]
) -> None:
    done = run_cli(tmp_path, "backtest", "--config", str(write_config(tmp_path, "c")),
                   "--no-save", *options, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join((done.stdout + done.stderr).split())
    assert "Traceback" not in text
    for word in words:
        assert word in text


def test_each_pairs_window_is_printed_and_a_difference_warned(tmp_path: Path) -> None:
    config = write_config(tmp_path, "two", pairs="BTC/USDT, XRP/USDT")
    done = run_cli(tmp_path, "backtest", "--config", str(config), "--no-save", columns=400,
                   env={"CANDLEWICK_SHARED_DATA": str(SHARED)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "binance BTC/USDT 5m: 154,301 bars, 2024-03-01 00:00 → 2025-08-18 18:25 UTC" in out
    assert "binance XRP/USDT 5m: 2,751 bars, 2026-04-15 00:00 → " in out
    assert "warning: the pairs cover different windows" in out
    assert "no period is covered by every pair" in out
