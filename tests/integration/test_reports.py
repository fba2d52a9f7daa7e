"""Reports of a hand-built backtest over real XRP/USDT 5m candles: HTML, JSON, terminal."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from candlewick.core.metrics import compute_metrics, per_pair_metrics
from candlewick.core.types import BacktestResult, Candles, ExitReason, Rejection, RunRecord, Trade
from candlewick.fmt import exact, format_value
from candlewick.paths import shared_data_dir
from candlewick.report.html import display_timeframe, thin_curve, write_html
from candlewick.report.json_report import to_json, write_json
from candlewick.report.terminal import print_summary

FEE = Decimal("0.001")
PAIR = "XRP/USDT"


def load_candles(name: str, pair: str, timeframe: str) -> Candles:
    data = shared_data_dir()
    if data is None:
        pytest.skip("the shared market data folder (../shared/data) is absent")
    df = pd.read_csv(data / "candles" / name)
    return Candles(
        "binance",
        pair,
        timeframe,
        df["timestamp"].to_numpy(np.int64),
        *(df[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume")),
    )


def simulate(
    candles: Candles, legs: list[tuple[int, int, ExitReason]], cash: str = "1000"
) -> BacktestResult:
    """All-in long trades (buy at the open of bar e, sell at the open of bar x), Binance fees."""
    money = Decimal(cash)
    n = len(candles)
    equity = np.empty(n)
    exposure = np.zeros(n)
    trades = []
    held_until = 0
    equity[:] = float(money)
    for e, x, reason in legs:
        equity[held_until:e] = float(money)
        buy = Decimal(repr(float(candles.open[e])))
        sell = Decimal(repr(float(candles.open[x])))
        qty = (money / buy).quantize(Decimal("0.00001"), rounding="ROUND_DOWN")
        entry_fee = qty * FEE
        qty_net = qty - entry_fee
        gross = qty_net * sell
        exit_fee = gross * FEE
        cost = qty * buy
        proceeds = gross - exit_fee
        left = money - cost
        value = float(qty_net) * candles.close[e:x]
        equity[e:x] = float(left) + value
        exposure[e:x] = value / equity[e:x]
        money = left + proceeds
        held_until = x
        trades.append(
            Trade(
                PAIR,
                int(candles.timestamp[e - 1]),
                int(candles.timestamp[e]),
                int(candles.timestamp[x]),
                buy,
                sell,
                qty,
                qty_net,
                cost,
                proceeds,
                entry_fee,
                exit_fee,
                reason,
                x - e,
            )
        )
    equity[held_until:] = float(money)
    return BacktestResult(
        pairs=(PAIR,),
        timeframe=candles.timeframe,
        quote="USDT",
        initial_cash=Decimal(cash),
        final_cash=money,
        trades=tuple(trades),
        timestamp=candles.timestamp.copy(),
        equity=equity,
        exposure=exposure,
        rejections=(Rejection(PAIR, int(candles.timestamp[5]), "max_open_positions"),),
        bars=n,
    )


LEGS = [
    (100, 160, ExitReason.SIGNAL),
    (400, 412, ExitReason.STOP_LOSS),
    (900, 1100, ExitReason.TAKE_PROFIT),
    (2000, 2300, ExitReason.TRAILING_STOP),
    (2700, 2750, ExitReason.END_OF_DATA),
]


@pytest.fixture(scope="module")
def xrp() -> Candles:
    return load_candles("binance_XRP-USDT_5m.csv", PAIR, "5m")


@pytest.fixture(scope="module")
def run(xrp: Candles) -> BacktestResult:
    return simulate(xrp, LEGS)


def test_hand_built_run_is_consistent(run: BacktestResult) -> None:
    m = compute_metrics(run)
    assert m["trade_count"] == 5
    assert m["final_equity"] == pytest.approx(float(run.equity[-1]))
    assert m["net_profit"] == pytest.approx(sum(float(t.pnl) for t in run.trades))
    assert 0 < float(m["time_in_market"] or 0) < 1


def test_html_report(tmp_path: Path, run: BacktestResult, xrp: Candles) -> None:
    m = compute_metrics(run)
    path = write_html(
        tmp_path / "r" / "run.html",
        run,
        m,
        per_pair_metrics(run),
        {PAIR: xrp},
        "XRP test run",
        run_id="abc123",
    )
    page = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 10_000_000
    # plotly.js is inline and nothing is fetched from the network
    assert page.count("plotly.js v") >= 1
    assert "Plotly.newPlot" in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page)
    assert not re.search(r"<link[^>]*https?:", page)
    # every trade has a row; markers for entries and each exit reason
    for n, t in enumerate(run.trades, start=1):
        assert f'<tr id="t{n}">' in page
        assert f"#{n} buy " in page
        assert f"#{n} {t.exit_reason} " in page
    assert page.count('<tr id="t') == len(run.trades)
    assert '"triangle-up"' in page
    assert '"triangle-down"' in page
    for reason in ("signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data"):
        assert f"exit: {reason}" in page
    assert '"candlestick"' in page
    assert "XRP test run" in page and "abc123" in page
    assert "Total return" in page and "Max drawdown" in page
    assert '"autorange":"reversed"' in page  # the drawdown is positive, drawn downwards
    # 2,751 bars fit below the limit: no resampling note
    assert "resampled" not in page


def test_html_resamples_long_series(tmp_path: Path, run: BacktestResult, xrp: Candles) -> None:
    m = compute_metrics(run)
    path = write_html(
        tmp_path / "small.html",
        run,
        m,
        per_pair_metrics(run),
        {PAIR: xrp},
        "thin",
        max_candles=500,
        max_points=300,
    )
    page = path.read_text(encoding="utf-8")
    assert "2,751 5m candles resampled to 30m for display" in page
    assert "thinned to" in page


def test_html_without_candles_or_trades(tmp_path: Path, xrp: Candles) -> None:
    flat = simulate(xrp, [])
    m = compute_metrics(flat)
    path = write_html(tmp_path / "flat.html", flat, m, per_pair_metrics(flat), {}, "flat")
    page = path.read_text(encoding="utf-8")
    assert "No candles given for XRP/USDT" in page
    assert "Trades (0)" in page


def test_display_timeframe(xrp: Candles) -> None:
    assert display_timeframe(xrp, 5000) == "5m"
    assert display_timeframe(xrp, 2751) == "5m"
    assert display_timeframe(xrp, 1000) == "15m"  # 918 buckets
    assert display_timeframe(xrp, 100) == "4h"  # 229 h of bars: 115 buckets at 2h, 58 at 4h


def test_thin_curve_keeps_troughs() -> None:
    rng = np.random.default_rng(7)
    values = (1000 * np.cumprod(1 + rng.normal(0, 0.01, 50_001))).astype(np.float64)
    depth = 1 - values / np.maximum.accumulate(values)
    idx, k = thin_curve(values, depth, 600)
    assert k > 1
    assert idx.size <= 600
    assert idx[0] == 0 and idx[-1] == values.size - 1
    assert int(np.argmin(values)) in idx
    assert int(np.argmax(depth)) in idx
    assert np.all(np.diff(idx) > 0)
    small, k1 = thin_curve(values[:10], depth[:10], 600)
    assert k1 == 1 and small.tolist() == list(range(10))


def test_json_report(tmp_path: Path, run: BacktestResult) -> None:
    m = compute_metrics(run)
    doc = json.loads(to_json(run, m, per_pair_metrics(run)))
    assert doc["schema"] == "candlewick.report/2"
    assert doc["result"]["initial_cash"] == "1000"
    assert Decimal(doc["result"]["final_cash"]) == run.final_cash
    first = doc["trades"][0]
    t = run.trades[0]
    assert Decimal(first["entry_price"]) == t.entry_price
    assert Decimal(first["pnl"]) == t.pnl
    assert first["entry_ts"] == t.entry_ts
    assert first["entry_time"].endswith("Z") and first["entry_time"].startswith("2026-04-15T")
    assert first["exit_reason"] == "signal"
    assert doc["metrics"]["trade_count"] == 5
    assert doc["per_pair"][0]["pair"] == PAIR
    assert {r["exit_reason"] for r in doc["exit_reasons"]} == {r.value for _, _, r in LEGS}
    assert doc["rejections"][0]["reason"] == "max_open_positions"
    assert len(doc["equity_curve"]["equity"]) == len(run.equity)
    assert "run" not in doc
    out = write_json(tmp_path / "j" / "run.json", run, include_curve=False)
    written = json.loads(out.read_text())
    assert "equity_curve" not in written
    assert written["metrics"] == json.loads(json.dumps(m))


def test_terminal_summary(run: BacktestResult) -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=160, color_system=None)
    print_summary(console, run, compute_metrics(run), per_pair_metrics(run), run_id="abc123")
    text = buf.getvalue()
    assert "run abc123" in text
    for label in ("Total return", "Sharpe", "Max drawdown", "Profit factor", "Win rate"):
        assert label in text
    assert "Per pair" in text and PAIR in text
    assert "Exit reasons" in text
    for reason in ("signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data"):
        assert reason in text


def test_json_of_a_run_record(run: BacktestResult) -> None:
    record = RunRecord(
        run_id="r1",
        kind="backtest",
        name="xrp demo",
        created_at=1_776_300_000_000,
        config={"risk": {"fee": Decimal("0.001")}, "pairs": (PAIR,)},
        exchange="binance",
        pairs=(PAIR,),
        timeframe="5m",
        start_ts=int(run.timestamp[0]),
        end_ts=int(run.timestamp[-1]),
        metrics={"total_return": 0.5},
        result=run,
    )
    doc = json.loads(to_json(record, include_curve=False))
    assert doc["run"]["run_id"] == "r1"
    assert doc["run"]["created_time"] == "2026-04-16T00:40:00Z"
    assert doc["run"]["config"] == {"risk": {"fee": "0.001"}, "pairs": [PAIR]}
    assert doc["metrics"] == {"total_return": 0.5}  # the stored metrics are reported as stored


def test_formatting() -> None:
    assert format_value(0.12345, "pct") == "12.35%"
    assert format_value(None, "pct") == "—"
    assert format_value(float("nan"), "ratio") == "—"
    assert format_value(1234567.891, "money") == "1,234,567.89"
    assert format_value(0.000123456, "money") == "0.0001235"  # BTC-quoted amounts
    assert format_value(2596, "int") == "2,596"
    assert format_value(9.04, "days") == "9.0 d"
    assert format_value("2026-04-15T00:00:00Z", "text") == "2026-04-15T00:00:00Z"
    assert exact(Decimal("1.23456789012")) == "1.23456789"
    assert exact(Decimal("0.00100")) == "0.00100"


def test_terminal_summary_on_a_narrow_terminal(run: BacktestResult) -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=60, color_system=None)
    per_pair = per_pair_metrics(run)
    print_summary(console, run, compute_metrics(run), per_pair)
    text = buf.getvalue()
    # the per-pair table turns to one row per metric, and no number is cut short
    assert re.search(r"Contribution\s+-?\d", text)
    assert format_value(per_pair[0]["net_pnl"], "money") in text
    assert format_value(per_pair[0]["worst_trade_return"], "pct") in text
    assert "…" not in text
