"""A run's status (ok / failed lookahead check) and its checks, on SQLite and PostgreSQL:
stored, listed, and added by the migration to runs stored before it (they are "ok")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from candlewick.errors import StorageError
from candlewick.modes.backtest import LOOKAHEAD_FAILED
from candlewick.storage.db import MIGRATIONS_DIR, Database, open_database
from candlewick.storage.models import RunStatus
from candlewick.storage.runs import RunRepository
from tests.integration.conftest import HOUR_MS, make_run_record

CHECKS: dict[str, Any] = {
    "lookahead": {
        "ok": False,
        "seed": 1234,
        "pairs": {
            "BTC/USDT": {
                "ok": False,
                "bars": 240,
                "cuts": 31,
                "cuts_by_kind": {"signal": 10, "rejected": 3, "random": 9, "checkpoint": 9},
                "seed": 1234,
                "repeated": True,
                "differences": 1,
                "first_differences": [
                    {
                        "bar": 17,
                        "timestamp": 1_696_179_600_000,
                        "signal": "entry",
                        "full": False,
                        "truncated": True,
                        "cut": 18,
                        "cut_kind": "rejected",
                    }
                ],
            }
        },
    }
}


@pytest.fixture
def repo(db_url: str) -> Iterator[RunRepository]:
    """A repository over an empty, migrated database (SQLite and PostgreSQL)."""
    with open_database(db_url) as database:
        yield RunRepository(database)


def test_a_failed_run_is_stored_marked_with_its_checks(repo: RunRepository) -> None:
    ok_id = repo.save(make_run_record(name="clean"))
    failed = make_run_record(name="peeks", created_at=make_run_record().created_at + HOUR_MS)
    failed_id = repo.save(failed, status=RunStatus.LOOKAHEAD_FAILED, checks=CHECKS)

    listed = {s.id: s for s in repo.list()}
    assert listed[failed_id].status == "lookahead_failed" and listed[failed_id].failed
    assert listed[ok_id].status == "ok" and not listed[ok_id].failed
    assert listed[ok_id].checks is None
    summary = repo.summary(failed_id[:6])
    assert summary.checks == CHECKS
    assert summary.status is RunStatus.LOOKAHEAD_FAILED
    # The run itself loads as any other: the mark is beside it, not instead of it.
    assert repo.get(failed_id).result.trades == failed.result.trades


def test_list_can_leave_out_failed_runs(repo: RunRepository) -> None:
    base = make_run_record().created_at
    ok_id = repo.save(make_run_record(created_at=base))
    repo.save(make_run_record(created_at=base + HOUR_MS), status="lookahead_failed", checks=CHECKS)
    assert [s.id for s in repo.list(status=RunStatus.OK)] == [ok_id]
    assert len(repo.list()) == 2


def test_the_backtest_marks_failed_runs_with_the_stored_status() -> None:
    assert RunStatus.LOOKAHEAD_FAILED.value == LOOKAHEAD_FAILED


def test_an_unknown_status_is_refused(repo: RunRepository) -> None:
    with pytest.raises(StorageError, match=r"unknown run status 'great'.*ok, lookahead_failed"):
        repo.save(make_run_record(), status="great")
    assert repo.list() == []


def test_runs_stored_before_the_status_existed_are_ok(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with Database(db_url) as db, db.transaction("build the first schema", write=True) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, kind, name, created_at, exchange, pairs, timeframe, quote,"
                " start_ts, end_ts, config, metrics, meta, initial_cash, final_equity, bars,"
                " trade_count) VALUES ('0ld0ld0ld0ld', 'backtest', 'old', 1, 'binance',"
                " '[\"BTC/USDT\"]', '1h', 'USDT', 1, 2, '{}', '{}', '{}', '10000', '10001', 2, 0)"
            )
        )
    with Database(db_url) as db:
        assert db.migrate() is True
        [old] = RunRepository(db).list()
    assert (old.id, old.status, old.checks) == ("0ld0ld0ld0ld", "ok", None)
