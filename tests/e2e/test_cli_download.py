"""``candlewick data download`` from the exchange emulator: reproduces the stored candles,
resumes after an interruption and fills an injected gap (real ccxt, real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from candlewick.core.types import Candles
from candlewick.data.store import CandleStore
from candlewick.emulator.testing import config_for, import_march_2026, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
DAY_MS = 86_400_000
MAR_24 = 1_774_310_400_000  # 2026-03-24 00:00 UTC


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An emulator serving real BTC/USDT 1m candles, in a thread, until the module ends."""
    assert SHARED is not None
    root = tmp_path_factory.mktemp("source")
    import_march_2026(root, SHARED, ["BTC/USDT"])
    config = config_for(root, ["BTC/USDT"], speed="step", replay_start="2026-04-01T00:00:00Z")
    ready: dict[str, str] = {}
    started, stop = threading.Event(), threading.Event()

    async def run() -> None:
        async with serve(config) as server:
            ready["url"] = server.url
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    assert started.wait(30), "the emulator did not start"
    yield ready["url"]
    stop.set()
    thread.join(10)


def download(home: Path, url: str, since: str, until: str) -> str:
    env = dict(os.environ, CANDLEWICK_HOME=str(home), COLUMNS="160")
    done = subprocess.run(
        [sys.executable, "-m", "candlewick", "data", "download", "--pairs", "BTC/USDT",
         "--timeframes", "1m", "--since", since, "--until", until, "--exchange-url", url],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def stored(home: Path, start: int, end: int) -> Candles:
    return CandleStore(home / "candles").read("binance", "BTC/USDT", "1m", start, end - 1)


def source(start: int, end: int, tmp_path: Path) -> Candles:
    assert SHARED is not None
    root = tmp_path / "expected"
    import_march_2026(root, SHARED, ["BTC/USDT"])
    return CandleStore(root).read("binance", "BTC/USDT", "1m", start, end - 1)


def assert_same(got: Candles, want: Candles) -> None:
    assert len(got) == len(want) > 0
    assert np.array_equal(got.timestamp, want.timestamp)
    for name in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(got.column(name), want.column(name)), name


def test_download_reproduces_resumes_and_fills_gaps(emulator_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    end = MAR_24 + 2 * DAY_MS
    want = source(MAR_24, end, tmp_path)

    # An interrupted download (only the first day), then the whole range: only the rest comes.
    first = download(home, emulator_url, "2026-03-24", "2026-03-25")
    assert "1,440 new bar(s)" in first
    resumed = download(home, emulator_url, "2026-03-24", "2026-03-26")
    assert "1,440 new bar(s)" in resumed
    assert_same(stored(home, MAR_24, end), want)

    # A hole of 100 minutes in the store is found and filled; nothing else is fetched again.
    store = CandleStore(home / "candles")
    full = stored(home, MAR_24, end)
    keep = np.ones(len(full), dtype=bool)
    keep[500:600] = False
    store.delete("binance", "BTC/USDT", "1m")
    holed = Candles(
        "binance",
        "BTC/USDT",
        "1m",
        np.asarray(full.timestamp)[keep],
        np.asarray(full.open)[keep],
        np.asarray(full.high)[keep],
        np.asarray(full.low)[keep],
        np.asarray(full.close)[keep],
        np.asarray(full.volume)[keep],
    )
    store.write(holed)
    assert len(stored(home, MAR_24, end)) == len(want) - 100
    filled = download(home, emulator_url, "2026-03-24", "2026-03-26")
    assert "100 new bar(s)" in filled
    assert_same(stored(home, MAR_24, end), want)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_wait_lets_the_download_start_before_the_emulator(tmp_path: Path) -> None:
    assert SHARED is not None
    root = tmp_path / "source"
    import_march_2026(root, SHARED, ["BTC/USDT"])
    port = free_port()
    config = config_for(root, ["BTC/USDT"], speed="step", replay_start="2026-04-01T00:00:00Z",
                        port=port)  # fmt: skip
    env = dict(os.environ, CANDLEWICK_HOME=str(tmp_path / "home"), COLUMNS="160")
    command = [sys.executable, "-m", "candlewick", "data", "download", "--pairs", "BTC/USDT",
               "--since", "2026-03-24", "--until", "2026-03-24T02:00",
               "--exchange-url", f"http://127.0.0.1:{port}"]  # fmt: skip
    refused = subprocess.run([*command, "--wait", "1"], capture_output=True, text=True, env=env,
                             timeout=60, check=False)  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "did not answer within 1 s" in " ".join(refused.stderr.split())
    stop = threading.Event()

    async def run_later() -> None:
        await asyncio.sleep(2.0)  # the download has started waiting by then
        async with serve(config):
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(run_later()), daemon=True)
    thread.start()
    try:
        done = subprocess.run([*command, "--wait", "60"], capture_output=True, text=True,
                              env=env, timeout=120, check=False)  # fmt: skip
    finally:
        stop.set()
        thread.join(10)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "120 new bar(s)" in done.stdout
