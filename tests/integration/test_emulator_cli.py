"""``candlewick emulator --config`` as a process: the example config serves ccxt, stops on SIGTERM,
and bad configurations are refused with a message naming the field."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from candlewick.emulator.config import load_config
from candlewick.emulator.testing import ccxt_client, import_march_2026
from candlewick.errors import ConfigError
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "emulator" / "emulator.yaml"


def test_the_example_config_serves_ccxt_and_stops_on_sigterm(tmp_path: Path) -> None:
    assert SHARED is not None
    home = tmp_path / "home"
    import_march_2026(home / "emulator" / "candles", SHARED)
    config = tmp_path / "emulator.yaml"
    text = EXAMPLE.read_text().replace("# state_file: emulator-state.db", "state_file: state.db")
    config.write_text(text)
    env = {**os.environ, "CANDLEWICK_HOME": str(home), "COLUMNS": "200"}
    command = [sys.executable, "-m", "candlewick", "emulator", "--config", str(config),
               "--port", "0", "--speed", "step"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match is not None, line + (process.stderr.read().decode() if process.stderr else "")
        url = match.group(0)

        async def use() -> tuple[list[str], list[list[float]], float]:
            ex = ccxt_client(url, "demo-key", "demo-secret")
            try:
                markets = await ex.load_markets()
                candles = await ex.fetch_ohlcv("BTC/USDT", "1h", limit=3)
                balance = await ex.fetch_balance()
                return sorted(markets), candles, balance["USDT"]["free"]
            finally:
                await ex.close()

        markets, candles, usdt = asyncio.run(use())
        assert markets == ["BNB/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
        assert candles[-1][0] == 1_774_396_800_000  # the hour opening at the replay start
        assert usdt == 10000
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0
    assert (tmp_path / "state.db").is_file()  # the state was written next to the config


def test_bad_config_is_refused_with_the_field_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    shutil.copy(EXAMPLE, config)
    config.write_text(
        config.read_text()
        .replace("speed: 60 ", "speed: -3 ")
        .replace('tick_size: "0.01", step_size: "0.00001"', 'tick_size: "0.01", stepsize: "1"')
    )
    with pytest.raises(ConfigError) as error:
        load_config(config)
    message = str(error.value)
    assert "speed" in message and "pairs[0].stepsize: unknown key" in message
    result = subprocess.run(
        [sys.executable, "-m", "candlewick", "emulator", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "stepsize" in result.stderr


def test_a_port_in_use_says_to_pass_port(tmp_path: Path, store_root: Path) -> None:
    config = tmp_path / "emulator.yaml"
    config.write_text(
        f"store: {store_root}\n"
        'pairs: [{market: BTC/USDT, tick_size: "0.01", step_size: "0.00001"}]\n'
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "candlewick", "emulator", "--config", str(config),
             "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr


def test_the_example_config_imports_its_pairs_from_the_shared_data(tmp_path: Path) -> None:
    """The README's block on a fresh home: the emulator imports every pair it replays into its
    own store (the files covering its replay start, segment files included), and only once;
    candles the bot imported into its own store are not the emulator's."""
    assert SHARED is not None
    home = tmp_path / "home"
    env = {**os.environ, "CANDLEWICK_HOME": str(home), "CANDLEWICK_SHARED_DATA": str(SHARED),
           "COLUMNS": "300"}  # fmt: skip
    candles = SHARED / "candles"
    imported = subprocess.run(
        [sys.executable, "-m", "candlewick", "data", "import",
         str(candles / "binance_BTC-USDT_1m_2026-03.csv.gz")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr

    def start() -> tuple[list[str], list[str], list[list[float]]]:
        command = [sys.executable, "-m", "candlewick", "emulator", "--config", str(EXAMPLE),
                   "--port", "0", "--speed", "step"]  # fmt: skip
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines: list[str] = []
        try:
            assert process.stdout is not None
            while not lines or "listening" not in lines[-1]:
                line = process.stdout.readline().decode()
                assert line, "".join(lines) + (
                    process.stderr.read().decode() if process.stderr else ""
                )
                lines.append(line)
            match = re.search(r"http://127\.0\.0\.1:\d+", lines[-1])
            assert match is not None

            async def use() -> tuple[list[str], list[list[float]]]:
                ex = ccxt_client(match.group(0))
                try:
                    markets = sorted(await ex.load_markets())
                    return markets, await ex.fetch_ohlcv("ETH/USDT", "1h", limit=2)
                finally:
                    await ex.close()

            markets, eth = asyncio.run(use())
            return lines, markets, eth
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)

    lines, markets, eth = start()
    notes = " ".join(lines[:-1])
    for name in ("BTC-USDT_1m_2026-03", "ETH-USDT_1m_2026-03", "SOL-USDT_1m", "XRP-USDT_1m",
                 "BNB-USDT_1m"):  # fmt: skip
        assert f"binance_{name}.csv.gz" in notes, notes  # the bot's store is not the emulator's
    assert str(home / "emulator" / "candles") in notes
    assert markets == ["BNB/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
    assert eth[-1][0] == 1_774_396_800_000  # the replay start, from the 2026-03 segment
    again, _, _ = start()
    assert len(again) == 1  # nothing more to import: straight to listening
