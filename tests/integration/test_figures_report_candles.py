"""``candlewick report RUN_ID`` charts the bars the run used: the stored series is chosen as the
backtest chooses it (``load_series``), not the stored timeframe of the same name whatever it
covers. The store holds a long 15m series and a short 1m series of the same pair."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from candlewick.cli import report_cmd
from candlewick.core.types import BacktestResult, Candles, RunRecord
from candlewick.data.sources import load_series
from candlewick.data.store import CandleStore
from candlewick.storage import RunRepository, open_database

PAIR = "BTC/USDT"
MIN = 60_000
DAY = 1440 * MIN
JAN_1_2024 = 1_704_067_200_000
FEB_28_2024 = JAN_1_2024 + 58 * DAY
FEB_29_2024 = FEB_28_2024 + DAY
MAR_4_2024 = FEB_28_2024 + 5 * DAY


def synthetic(timeframe: str, start: int, step: int, n: int, seed: int) -> Candles:
    """``n`` plausible candles of ``timeframe`` from ``start`` (a random walk near 60,000)."""
    rng = np.random.default_rng(seed)
    close = np.asarray(60_000 * np.cumprod(1 + rng.normal(0, 0.001, n)), dtype=np.float64)
    open_ = np.concatenate([[60_000.0], close[:-1]])
    high = np.maximum(open_, close) * 1.0005
    low = np.minimum(open_, close) * 0.9995
    volume = np.asarray(rng.uniform(1, 10, n), dtype=np.float64)
    ts = start + step * np.arange(n, dtype=np.int64)
    return Candles("binance", PAIR, timeframe, ts, open_, high, low, close, volume)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A home whose store holds 60 days of 15m candles (to 2024-03-01) and 5 days of 1m candles
    (2024-02-28 to 2024-03-04), and a database."""
    home = tmp_path / "home"
    store = CandleStore(home / "candles")
    store.write(synthetic("15m", JAN_1_2024, 15 * MIN, 60 * 96, seed=1))
    store.write(synthetic("1m", FEB_28_2024, MIN, 5 * 1440, seed=2))
    return {"CANDLEWICK_HOME": str(home), "CANDLEWICK_DB_URL": f"sqlite:///{tmp_path / 'r.db'}"}


def store_run(env: dict[str, str], window: dict[str, str], bars: Candles) -> RunRecord:
    """A stored 15m run over ``bars`` (no trades) whose config has ``backtest: window``."""
    ts = bars.timestamp
    result = BacktestResult(
        pairs=(PAIR,),
        timeframe="15m",
        quote="USDT",
        initial_cash=Decimal(1000),
        final_cash=Decimal(1000),
        trades=(),
        timestamp=ts,
        equity=np.full(len(ts), 1000.0),
        exposure=np.zeros(len(ts)),
        bars=len(ts),
    )
    record = RunRecord(
        run_id="f00dcafe0001",
        kind="backtest",
        name="window",
        created_at=MAR_4_2024,
        config={"pairs": [PAIR], "timeframe": "15m", "backtest": window},
        exchange="binance",
        pairs=(PAIR,),
        timeframe="15m",
        start_ts=int(ts[0]),
        end_ts=int(ts[-1]),
        metrics={},
        result=result,
    )
    with open_database(env["CANDLEWICK_DB_URL"]) as db:
        RunRepository(db).save(record)
    return record


def report_page(env: dict[str, str], tmp_path: Path) -> str:
    single = typer.Typer()
    single.command()(report_cmd.report)
    out = tmp_path / "report.html"
    done = CliRunner().invoke(single, ["f00dcafe0001", "--out", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert "no chart" not in done.output
    return out.read_text(encoding="utf-8")


def test_a_window_only_the_1m_series_covers_is_charted_from_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    store = CandleStore(Path(env["CANDLEWICK_HOME"]) / "candles")
    # What the backtest of 2024-02-29 .. 2024-03-04 reads: 4 days resampled from the 1m bars.
    used = load_series(store, "binance", PAIR, "15m", FEB_29_2024, MAR_4_2024, data_dir=tmp_path)
    assert used.coverage.source_timeframe == "1m" and len(used.candles) == 4 * 96
    record = store_run(env, {"start": "2024-02-29", "end": "2024-03-04"}, used.candles)
    assert "15m (384 candles)" in report_page(env, tmp_path)  # not the 96 stored 15m bars

    charted, missing = report_cmd.run_candles(record, store)
    assert missing == {}
    np.testing.assert_array_equal(charted[PAIR].timestamp, used.candles.timestamp)
    np.testing.assert_array_equal(charted[PAIR].close, used.candles.close)


def test_an_open_window_is_charted_from_the_long_15m_series(
    env: dict[str, str], tmp_path: Path
) -> None:
    store = CandleStore(Path(env["CANDLEWICK_HOME"]) / "candles")
    used = load_series(store, "binance", PAIR, "15m", data_dir=tmp_path)
    assert used.coverage.source_timeframe == "15m" and len(used.candles) == 60 * 96
    record = store_run(env, {}, used.candles)

    charted, _ = report_cmd.run_candles(record, store)
    np.testing.assert_array_equal(charted[PAIR].timestamp, used.candles.timestamp)
    np.testing.assert_array_equal(charted[PAIR].close, used.candles.close)
    assert "5,760 15m candles resampled to" in report_page(env, tmp_path)


def test_bars_stored_after_the_run_are_not_charted(env: dict[str, str], tmp_path: Path) -> None:
    store = CandleStore(Path(env["CANDLEWICK_HOME"]) / "candles")
    used = load_series(store, "binance", PAIR, "15m", data_dir=tmp_path)
    record = store_run(env, {}, used.candles.slice(96, 30 * 96))  # the run saw days 1-29
    charted, _ = report_cmd.run_candles(record, store)
    np.testing.assert_array_equal(charted[PAIR].timestamp, used.candles.timestamp[96 : 30 * 96])
