"""A run stored as failing its lookahead check is marked wherever it is shown: ``runs list``,
``runs show`` (text and JSON) and its reports (JSON, HTML, terminal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from candlewick.cli import report_cmd
from candlewick.cli.runs_cmd import app
from candlewick.storage import RunRepository, RunStatus, open_database
from tests.integration.conftest import make_run_record
from tests.integration.test_runs_status import CHECKS

FAILED_ID = "bad0bad0bad0"
OK_ID = "900d900d900d"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A home and a SQLite database holding a clean run and a newer one that failed."""
    env = {
        "CANDLEWICK_HOME": str(tmp_path / "home"),
        "CANDLEWICK_DB_URL": f"sqlite:///{tmp_path / 'runs.db'}",
    }
    ok = make_run_record(run_id=OK_ID, name="clean run")
    failed = make_run_record(run_id=FAILED_ID, name="peeking run", created_at=ok.created_at + 1)
    with open_database(env["CANDLEWICK_DB_URL"]) as db:
        repo = RunRepository(db)
        repo.save(ok, checks={"lookahead": {**CHECKS["lookahead"], "ok": True, "pairs": {}}})
        repo.save(failed, status=RunStatus.LOOKAHEAD_FAILED, checks=CHECKS)
    return env


def runs(env: dict[str, str], *args: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(app, list(args), env=env, **kwargs)


def report(env: dict[str, str], *args: str) -> Result:
    single = typer.Typer()
    single.command()(report_cmd.report)
    return CliRunner().invoke(single, list(args), env=env)


def test_list_marks_the_failed_run(env: dict[str, str]) -> None:
    result = runs(env, "list")  # 80 columns
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines[:-2])
    failed = next(line for line in lines if FAILED_ID in line)
    clean = next(line for line in lines if OK_ID in line)
    assert "✗" in failed
    assert "✗" not in clean and "✓" in clean
    assert f"1 run failed its lookahead check ({FAILED_ID})" in result.output
    wide = runs({**env, "COLUMNS": "120"}, "list").output.splitlines()
    assert "✗ lookahead" in next(line for line in wide if FAILED_ID in line)

    only_ok = runs(env, "list", "--status", "ok")
    assert only_ok.exit_code == 0, only_ok.output
    assert OK_ID in only_ok.output and FAILED_ID not in only_ok.output


def test_show_says_the_run_failed_and_what_was_checked(env: dict[str, str]) -> None:
    result = runs({**env, "COLUMNS": "120"}, "show", FAILED_ID[:6])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "FAILED the lookahead check" in out
    assert "BTC/USDT: 1 signal(s) change when the future is cut off" in out
    assert "31 truncated histories (10 after kept signals, 3 after rejected entries" in out
    assert "seed 1234" in out
    assert "bar 17 (2023-10-01 17:00): entry was False on full history, True with" in out

    as_json = json.loads(runs(env, "show", FAILED_ID, "--json").stdout)
    assert as_json["status"] == "lookahead_failed"
    assert as_json["checks"] == CHECKS
    clean = runs(env, "show", OK_ID)
    assert "FAILED" not in clean.output


def test_the_reports_of_a_failed_run_carry_a_banner(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "failed.json"
    assert report(env, FAILED_ID, "--format", "json", "--out", str(out)).exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["status"] == "lookahead_failed"
    assert doc["checks"] == CHECKS
    assert "FAILED the lookahead check" in doc["warning"]

    page = tmp_path / "failed.html"
    result = report(env, FAILED_ID, "--out", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert html.index('class="banner"') < html.index("<h2>Metrics</h2>")
    assert "FAILED the lookahead check" in html and "<title>FAILED" in html

    text = report(env, FAILED_ID, "--format", "text")
    assert "FAILED the lookahead check" in text.output

    clean = tmp_path / "clean.json"
    assert report(env, OK_ID, "--format", "json", "--out", str(clean)).exit_code == 0
    doc = json.loads(clean.read_text())
    assert doc["status"] == "ok" and "warning" not in doc
