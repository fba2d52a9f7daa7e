"""What ``candlewick backtest`` loads: only what the command needs.

The real entry point runs in a subprocess under a small probe that reports, when the CLI ends
its process, which modules were imported and how many candle series were alive at the save.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from candlewick.core.types import Candles
from candlewick.data.store import CandleStore

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml")
FIVE_MIN = 300_000

PROBE = """
import gc, json, os, sys

alive = []
if "--no-save" not in sys.argv:
    from candlewick.core.types import Candles
    from candlewick.storage import runs

    inner = runs.RunRepository.save

    def save(self, *args, **kwargs):
        gc.unfreeze()  # the CLI freezes the run's objects; count them all
        gc.collect()
        alive.append(sum(isinstance(o, Candles) for o in gc.get_objects()))
        return inner(self, *args, **kwargs)

    runs.RunRepository.save = save

real_exit = os._exit


def report(code):
    sys.stdout.flush()
    print("PROBE " + json.dumps({"modules": sorted(sys.modules), "candles_at_save": alive}))
    sys.stdout.flush()
    real_exit(code)


os._exit = report
sys.argv = ["candlewick", *sys.argv[1:]]
from candlewick.cli.main import main

main()
"""

#: Never needed by a backtest that stores nothing.
NOT_WITHOUT_SAVING = (
    "sqlalchemy",
    "alembic",
    "asyncio",  # data download's
    "candlewick.storage",
    "candlewick.cli.download_cmd",
    "candlewick.cli.runs_cmd",
    "candlewick.cli.data_cmd",
    "pyarrow.parquet",  # writers only (it imports pyarrow.fs: cloud file systems, ssl)
    "pyarrow.fs",
    "pyarrow.pandas_compat",  # a pandas 3 string Index of the frame's labels
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose store holds 3,000 bars of BTC/USDT 5m (a seeded random walk)."""
    root = tmp_path_factory.mktemp("home")
    n = 3_000
    rng = np.random.default_rng(11)
    close = np.round(30_000.0 + np.cumsum(rng.normal(0.0, 40.0, n)), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    CandleStore(root / "candles").write(
        Candles(
            "binance",
            "BTC/USDT",
            "5m",
            1_704_067_200_000 + FIVE_MIN * np.arange(n, dtype=np.int64),
            open_,
            np.maximum(open_, close) + 5.0,
            np.minimum(open_, close) - 5.0,
            close,
            np.round(rng.uniform(1.0, 20.0, n), 4),
        )
    )
    return root


def probe(home: Path, *args: str) -> dict[str, list[str] | list[int]]:
    env = {k: v for k, v in os.environ.items() if k != "CANDLEWICK_DB_URL"}
    env.update(CANDLEWICK_HOME=str(home), COLUMNS="160")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "backtest", "--config", EXAMPLE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE "))
    found: dict[str, list[str] | list[int]] = json.loads(line.removeprefix("PROBE "))
    return found


def loaded(modules: list[str] | list[int], names: tuple[str, ...]) -> list[str]:
    """The ``modules`` that are one of ``names`` or inside one of them."""
    inside = tuple(f"{name}." for name in names)
    return [str(m) for m in modules if str(m) in names or str(m).startswith(inside)]


def test_a_backtest_without_saving_loads_no_storage_nor_other_commands(home: Path) -> None:
    found = probe(home, "--no-save")
    assert loaded(found["modules"], NOT_WITHOUT_SAVING) == []
    assert "candlewick.cli.backtest_cmd" in found["modules"]
    assert loaded(found["modules"], ("talib",)) == []  # the SMA cross uses no TA-Lib indicator


def test_saving_frees_the_candles_and_skips_alembic_once_migrated(home: Path) -> None:
    first = probe(home)  # creates the database: Alembic migrates it
    assert first["candles_at_save"] == [0]  # no HTML report: nothing reads them any more
    again = probe(home)
    assert again["candles_at_save"] == [0]
    assert loaded(again["modules"], ("alembic", "candlewick.cli.download_cmd")) == []
    assert "sqlalchemy" in again["modules"]


def test_the_html_report_keeps_the_candles_it_draws(home: Path) -> None:
    found = probe(home, "--html")
    assert found["candles_at_save"] == [1]
