"""``candlewick runs list|show|delete`` through Typer's CliRunner on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from candlewick.cli.runs_cmd import app
from candlewick.core.types import RunRecord
from candlewick.errors import RunNotFoundError
from candlewick.storage.db import open_database
from candlewick.storage.runs import RunRepository
from tests.integration.conftest import HOUR_MS, make_run_record

OLD_ID = "0ldc0ffee123"
NEW_ID = "11ea5e0f0001"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """CANDLEWICK_HOME and CANDLEWICK_DB_URL pointing into a temporary folder."""
    return {
        "CANDLEWICK_HOME": str(tmp_path / "home"),
        "CANDLEWICK_DB_URL": f"sqlite:///{tmp_path / 'db' / 'runs.db'}",
    }


@pytest.fixture
def stored(env: dict[str, str]) -> dict[str, RunRecord]:
    """Two runs saved in the database of ``env``: an older one and a newer one."""
    old = make_run_record(run_id=OLD_ID, n_trades=3, name="old run")
    new = make_run_record(
        run_id=NEW_ID, n_trades=14, name="new run", created_at=old.created_at + HOUR_MS
    )
    with open_database(env["CANDLEWICK_DB_URL"]) as db:
        repo = RunRepository(db)
        repo.save(old)
        repo.save(new)
    return {OLD_ID: old, NEW_ID: new}


def invoke(env: dict[str, str], *args: str, **kwargs: Any) -> Result:
    return CliRunner().invoke(app, list(args), env=env, **kwargs)


def test_list_shows_the_runs_newest_first(
    env: dict[str, str], stored: dict[str, RunRecord]
) -> None:
    result = invoke(env, "list")  # CliRunner's terminal is 80 columns: the short table
    assert result.exit_code == 0, result.output
    assert result.output.index(NEW_ID) < result.output.index(OLD_ID)
    assert "new run" in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines()[:-1])

    wide = invoke({**env, "COLUMNS": "160"}, "list")
    assert wide.exit_code == 0, wide.output
    assert "BTC/USDT, ETH/USDT" in wide.output
    assert f"{stored[NEW_ID].result.final_cash:,.2f}" in wide.output

    result = invoke(env, "list", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert NEW_ID in result.output
    assert OLD_ID not in result.output


def test_list_of_an_empty_database_says_so(env: dict[str, str]) -> None:
    result = invoke(env, "list")
    assert result.exit_code == 0, result.output
    assert "No runs stored" in result.output


def test_show_prints_summary_metrics_and_first_trades(
    env: dict[str, str], stored: dict[str, RunRecord]
) -> None:
    result = invoke(env, "show", NEW_ID[:6], "--trades", "5")
    assert result.exit_code == 0, result.output
    out = result.output
    assert NEW_ID in out
    assert "new run" in out
    assert "Sharpe" in out
    assert "First 5 of 14 trades" in out
    first = stored[NEW_ID].result.trades[0]
    assert f"{first.entry_price:f}" in out


def test_show_json_is_exact(env: dict[str, str], stored: dict[str, RunRecord]) -> None:
    result = invoke(env, "show", OLD_ID, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    record = stored[OLD_ID]
    assert data["id"] == OLD_ID
    assert data["trade_count"] == 3
    assert data["final_equity"] == str(record.result.final_cash)
    assert [t["cost"] for t in data["trades"]] == [str(t.cost) for t in record.result.trades]
    assert data["metrics"]["win_rate"] == 0.5
    assert data["config"] == record.config


def test_show_unknown_id_points_to_the_list_command(
    env: dict[str, str], stored: dict[str, Any]
) -> None:
    result = invoke(env, "show", "deadbeef0000")
    assert result.exit_code != 0
    assert isinstance(result.exception, RunNotFoundError)
    assert "candlewick runs list" in str(result.exception)


def test_delete_asks_first_and_only_deletes_on_yes(
    env: dict[str, str], stored: dict[str, Any]
) -> None:
    refused = invoke(env, "delete", OLD_ID, input="n\n")
    assert refused.exit_code == 1
    assert f"Delete run {OLD_ID} ('old run', 3 trades)?" in refused.output
    assert OLD_ID in invoke(env, "list").output

    accepted = invoke(env, "delete", OLD_ID[:5], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"Deleted run {OLD_ID}" in accepted.output
    listed = invoke(env, "list").output
    assert OLD_ID not in listed
    assert NEW_ID in listed


def test_delete_yes_does_not_ask(env: dict[str, str], stored: dict[str, Any]) -> None:
    result = invoke(env, "delete", NEW_ID, "--yes")
    assert result.exit_code == 0, result.output
    assert "?" not in result.output
    gone = invoke(env, "show", NEW_ID)
    assert isinstance(gone.exception, RunNotFoundError)
