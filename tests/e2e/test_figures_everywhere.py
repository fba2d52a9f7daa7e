"""One figure reads the same in every view of a run (docs/metrics.md, "How figures are shown").

The README's commands on a fresh home: ``backtest --html --json``, ``runs list``, ``runs show``,
``runs show --json`` and ``report`` (HTML, JSON and text). The max drawdown, total return,
trade count and window (first bar's open → last bar's close) must be written the same way in
the terminal summary, the covered-window line, the run list, the run page and both HTML
pages; the JSON files give the machine form (fractions, ms and ISO 8601 times).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from candlewick import fmt
from candlewick.paths import shared_data_dir
from tests.e2e.conftest import run_cli

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/data is not beside the checkout")
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml"

# The reference run (README): BTC/USDT 5m, 154,301 bars, 3,114 trades.
TOTAL_RETURN = "-99.79%"
MAX_DRAWDOWN = "99.80%"
TRADES = "3,114"
WINDOW = "2024-03-01 00:00 → 2025-08-18 18:25"  # the last bar opens at 18:20 and closes at 18:25
TITLE = f"sma_cross · backtest · BTC/USDT 5m · {WINDOW} UTC"


def cell(text: str, label: str) -> str:
    """The value next to ``label`` in a Rich key/value table (``│ Label │ value │``)."""
    found = re.search(rf"│ {re.escape(label)}\s*│\s*([^│]*?)\s*│", text)
    assert found is not None, f"no row {label!r} in:\n{text}"
    return found[1]


def html_cell(page: str, label: str) -> str:
    found = re.search(rf"<tr><td>{re.escape(html.escape(label))}</td><td>([^<]*)</td></tr>", page)
    assert found is not None, f"no row {label!r} in the page"
    return html.unescape(found[1])


def html_title(page: str) -> str:
    found = re.search(r"<title>([^<]*)</title>", page)
    assert found is not None
    return html.unescape(found[1])


def assert_human_figures(text: str, where: str) -> None:
    """The headline tables (terminal, run page) show the figures in the one convention."""
    assert cell(text, "Total return") == TOTAL_RETURN, where
    assert cell(text, "Max drawdown") == MAX_DRAWDOWN, where
    assert cell(text, "Trades") == TRADES, where
    assert cell(text, "Start (first open)") == "2024-03-01 00:00 UTC", where
    assert cell(text, "End (last close)") == "2025-08-18 18:25 UTC", where


def assert_no_other_convention(text: str, where: str, *, numbered: bool = False) -> None:
    """None of the conventions the views used to mix: a negative drawdown, raw metric keys
    and fractions, ISO times for people, the window's end at the last bar's open, a count
    without separators (unless the view numbers every trade: trade #3114)."""
    for other in ("-99.80%", "max_drawdown", "total_return", "2025-08-18T18:25:00Z", "18:20 UTC"):
        assert other not in text, f"{other!r} in {where}"
    if not numbered:
        assert not re.search(r"(?<![\d.,])3114(?![\d.,])", text), f"3114 in {where}"


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every view of one reference run, made by the README's commands on a fresh home."""
    tmp_path = tmp_path_factory.mktemp("figures")
    home = tmp_path / "home"
    env = {"CANDLEWICK_SHARED_DATA": str(SHARED)}

    def cli(*args: str) -> str:
        done = run_cli(home, *args, env=env, columns=200)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out_json = tmp_path / "out.json"
    backtest = cli("backtest", "--config", str(CONFIG), "--html", "--json", str(out_json))
    found = re.search(r"run id (\w+)", backtest)
    assert found is not None, backtest
    run_id = found[1]
    report_html, report_json = tmp_path / "report.html", tmp_path / "report.json"
    views: dict[str, Any] = {
        "run_id": run_id,
        "backtest": backtest,
        "listed": cli("runs", "list"),
        "shown": cli("runs", "show", run_id),
        "shown_doc": json.loads(cli("runs", "show", run_id, "--json")),
        "text_report": cli("report", run_id, "--format", "text"),
        "doc": json.loads(out_json.read_text()),
    }
    cli("report", run_id, "--out", str(report_html))
    cli("report", run_id, "--format", "json", "--out", str(report_json))
    views["report_doc"] = json.loads(report_json.read_text())
    views["report_page"] = report_html.read_text(encoding="utf-8")
    views["backtest_page"] = (home / "reports" / f"{run_id}.html").read_text(encoding="utf-8")
    return views


def closing_line(backtest: str) -> str:
    """The backtest's last figures line (``trades: ... final equity: ...``), which
    src/candlewick/cli/backtest_cmd.py prints with its own formatting."""
    return next(line for line in backtest.splitlines() if line.startswith("trades: "))


def test_each_figure_reads_the_same_in_every_view(views: dict[str, Any]) -> None:
    run_id: str = views["run_id"]
    backtest = views["backtest"].replace(closing_line(views["backtest"]), "")
    listed, shown, text_report = views["listed"], views["shown"], views["text_report"]
    shown_doc, doc, report_doc = views["shown_doc"], views["doc"], views["report_doc"]
    backtest_page, report_page = views["backtest_page"], views["report_page"]

    # Machine form: fractions (the drawdown positive), ms and ISO 8601 UTC, end = last close.
    metrics = doc["metrics"]
    assert 0 < metrics["max_drawdown"] < 1 and fmt.pct(metrics["max_drawdown"]) == MAX_DRAWDOWN
    assert fmt.pct(metrics["total_return"]) == TOTAL_RETURN
    assert metrics["trade_count"] == 3114
    assert (metrics["start"], metrics["end"]) == ("2024-03-01T00:00:00Z", "2025-08-18T18:25:00Z")
    for run in (shown_doc, report_doc["run"]):
        assert (run["start_ts"], run["end_ts"]) == (metrics["start_ts"], metrics["end_ts"])
        assert (run["start_time"], run["end_time"]) == (metrics["start"], metrics["end"])
    assert shown_doc["trade_count"] == 3114
    for key in ("max_drawdown", "total_return", "trade_count", "start", "end"):
        assert shown_doc["metrics"][key] == metrics[key] == report_doc["metrics"][key], key
    assert shown_doc["trades"][0]["entry_time"] == doc["trades"][0]["entry_time"]

    # The terminal summary of the backtest and of `report --format text`, and the run page.
    for text, where in ((backtest, "backtest"), (text_report, "report text"), (shown, "show")):
        assert_human_figures(text, where)
        assert_no_other_convention(text, where)
    assert f"BTC/USDT 5m · {WINDOW} UTC · return {TOTAL_RETURN}" in backtest
    assert f"run {run_id} · {TITLE} · return {TOTAL_RETURN}" in text_report
    assert shown.splitlines()[0].strip() == TITLE
    assert f"{WINDOW} UTC (154,301 bars" in shown
    # The covered-window line says the same window.
    assert f"binance BTC/USDT 5m: 154,301 bars, {WINDOW} UTC, native 5m candles" in backtest

    # The run list: one row with the same texts (UTC said in the header).
    row = next(line for line in listed.splitlines() if line.strip().startswith(run_id))
    assert "window (UTC)" in listed and "max drawdown" in listed
    assert WINDOW in row
    assert row.split()[-5:-1] == [TRADES, TOTAL_RETURN, MAX_DRAWDOWN, "-11.94"]
    assert_no_other_convention(listed, "runs list")

    # Both HTML pages: the same title and the same cells.
    for page, where in ((backtest_page, "backtest --html"), (report_page, "report")):
        assert html_title(page) == TITLE, where
        assert html_cell(page, "Total return") == TOTAL_RETURN, where
        assert html_cell(page, "Max drawdown") == MAX_DRAWDOWN, where
        assert html_cell(page, "Trades") == TRADES, where
        assert html_cell(page, "Start (first open)") == "2024-03-01 00:00 UTC", where
        assert html_cell(page, "End (last close)") == "2025-08-18 18:25 UTC", where
        assert f"Trades ({TRADES})" in page, where
        assert_no_other_convention(page, where, numbered=True)


def test_the_backtests_closing_line_follows_the_convention(views: dict[str, Any]) -> None:
    line = closing_line(views["backtest"])
    assert f"trades: {TRADES}" in line
    assert "final equity: 20.67 USDT" in line


def test_the_backtests_header_names_the_run_as_every_view(views: dict[str, Any]) -> None:
    assert f"run {views['run_id']} · {TITLE} · return {TOTAL_RETURN}" in views["backtest"]
