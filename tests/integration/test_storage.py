"""The database, its migrations and the run repository on real SQLite and real PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from candlewick.core.types import RunRecord
from candlewick.errors import RunNotFoundError, StorageError
from candlewick.storage.db import HEAD_REVISION, MIGRATIONS_DIR, Database
from candlewick.storage.models import AMOUNT_FIELDS as AMOUNTS
from candlewick.storage.models import metadata, runs
from candlewick.storage.runs import RunRepository
from tests.integration.conftest import make_run_record, with_id

T = TypeVar("T")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def repo(db: Database) -> RunRepository:
    db.migrate()
    return RunRepository(db)


def assert_same_run(got: RunRecord, want: RunRecord) -> None:
    """Everything equal; amounts identical down to their string; arrays bit-identical."""
    for name in ("kind", "name", "created_at", "exchange", "timeframe", "start_ts", "end_ts"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.pairs == tuple(want.pairs)
    assert got.config == want.config
    assert got.metrics == want.metrics
    r, w = got.result, want.result
    assert (r.pairs, r.timeframe, r.quote, r.bars, r.halted_at) == (
        w.pairs,
        w.timeframe,
        w.quote,
        w.bars,
        w.halted_at,
    )
    assert str(r.initial_cash) == str(w.initial_cash)
    assert str(r.final_cash) == str(w.final_cash)
    assert r.trades == w.trades
    for got_trade, want_trade in zip(r.trades, w.trades, strict=True):
        for name in AMOUNTS:
            assert str(getattr(got_trade, name)) == str(getattr(want_trade, name)), name
    for name in ("timestamp", "equity", "exposure"):
        got_array, want_array = getattr(r, name), getattr(w, name)
        assert got_array.dtype == want_array.dtype, name
        np.testing.assert_array_equal(got_array, want_array)
    assert r.rejections == w.rejections
    assert r.meta == w.meta


def count_rows(db: Database, table: str, run_id: str) -> int:
    with db.transaction("count") as conn:
        query = sa.text(f"SELECT COUNT(*) FROM {table} WHERE run_id = :id")
        return int(conn.execute(query, {"id": run_id}).scalar_one())


def run_in_threads(fn: Callable[[int], T], n: int = 2) -> list[T]:
    """Call ``fn(i)`` in ``n`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except BaseException as error:
            results[i] = error

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


# --- migrations -----------------------------------------------------------------------------


def test_migrate_creates_the_schema_on_an_empty_database(db: Database) -> None:
    assert db.current_revision() is None
    assert db.migrate() is True
    assert db.current_revision() == HEAD_REVISION
    with db.transaction("inspect") as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"runs", "run_trades", "run_series", "alembic_version"} <= tables


def test_migrate_twice_is_a_no_op_and_keeps_the_data(db: Database, db_url: str) -> None:
    db.migrate()
    run_id = RunRepository(db).save(make_run_record())
    assert db.migrate() is False
    with Database(db_url) as again:
        assert again.migrate() is False
        assert again.current_revision() == HEAD_REVISION
        assert RunRepository(again).get(run_id).run_id == run_id


def test_an_up_to_date_database_opens_without_importing_alembic(db: Database, db_url: str) -> None:
    db.migrate()
    code = (
        "import sys\n"
        "from candlewick.storage import open_database\n"
        f"open_database({db_url!r}).dispose()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_concurrent_migrations_of_one_database_both_succeed(db_url: str) -> None:
    databases = [Database(db_url), Database(db_url)]
    try:
        upgraded = run_in_threads(lambda i: databases[i].migrate())
    finally:
        for database in databases:
            database.dispose()
    assert sorted(upgraded) == [False, True]


def test_head_revision_constant_is_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrations_create_exactly_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db.migrate()
    altered = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(altered)
    altered.tables["runs"].append_column(sa.Column("extra", sa.Integer()))
    with db.transaction("compare the schema") as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert compare_metadata(context, altered) != []  # the comparison does see a difference


def test_a_schema_newer_than_the_code_is_refused(db: Database) -> None:
    db.migrate()
    with db.transaction("fake a newer schema", write=True) as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StorageError, match="newer Candlewick"):
        db.migrate()


# --- saving and loading ---------------------------------------------------------------------


def test_save_and_get_round_trip(repo: RunRepository) -> None:
    record = make_run_record(n_trades=7)
    run_id = repo.save(record)
    assert len(run_id) == 12
    int(run_id, 16)
    got = repo.get(run_id)
    assert got.run_id == run_id
    assert_same_run(got, record)


def test_five_thousand_trades_round_trip(repo: RunRepository) -> None:
    record = make_run_record(n_trades=5000)
    run_id = repo.save(record)
    assert_same_run(repo.get(run_id), record)
    assert repo.summary(run_id).trade_count == 5000


def amounts(value: Decimal) -> dict[str, Any]:
    """Every amount field of a trade set to ``value``."""
    return dict.fromkeys(AMOUNTS, value)


EDGE_AMOUNTS = [
    "0.1234567890123456789012345678",
    "1234567890123456789012345678",
    "-0.0000000000000000000000000001",
    "1E-28",
    "9.999999999999999999999999999E+27",
    "27012.340000000000",
    "1.50",
    "0",
    "-0",
    "0E-10",
]


def test_amounts_are_stored_exactly(repo: RunRepository) -> None:
    base = make_run_record(n_trades=1)
    template = base.result.trades[0]
    trades = tuple(replace(template, **amounts(Decimal(text))) for text in EDGE_AMOUNTS)
    record = replace(
        base,
        result=replace(base.result, trades=trades, initial_cash=Decimal("10000.000000001")),
    )
    got = repo.get(repo.save(record))
    assert [str(t.cost) for t in got.result.trades] == [str(Decimal(a)) for a in EDGE_AMOUNTS]
    assert_same_run(got, record)


decimals_28 = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(-(10**28) + 1, 10**28 - 1),
    st.integers(-40, 20),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(decimals_28, min_size=1, max_size=8))
def test_any_28_digit_amount_round_trips(repo: RunRepository, amounts: list[Decimal]) -> None:
    base = make_run_record(n_trades=1)
    template = base.result.trades[0]
    trades = tuple(replace(template, entry_price=a, exit_fee=-a, qty=a.scaleb(-3)) for a in amounts)
    record = replace(base, result=replace(base.result, trades=trades))
    got = repo.get(repo.save(record)).result.trades
    for got_trade, want_trade in zip(got, trades, strict=True):
        for name in ("entry_price", "exit_fee", "qty"):
            assert str(getattr(got_trade, name)) == str(getattr(want_trade, name))


def test_float_amounts_are_refused_before_writing(repo: RunRepository) -> None:
    base = make_run_record(n_trades=2)
    bad = replace(base.result.trades[1], exit_price=27100.5)  # type: ignore[arg-type]
    record = replace(base, result=replace(base.result, trades=(base.result.trades[0], bad)))
    with pytest.raises(StorageError, match=r"trade #1 \(ETH/USDT\) exit_price .*decimal"):
        repo.save(record)
    assert repo.list() == []


def test_the_amount_column_type_refuses_floats_too(repo: RunRepository) -> None:
    row = {
        "id": "f10a7f10a7f1",
        "kind": "backtest",
        "name": "float cash",
        "created_at": 0,
        "exchange": "binance",
        "pairs": ["BTC/USDT"],
        "timeframe": "1h",
        "quote": "USDT",
        "start_ts": 0,
        "end_ts": 1,
        "config": {},
        "metrics": {},
        "meta": {},
        "initial_cash": 10_000.5,
        "final_equity": Decimal(1),
        "bars": 1,
        "trade_count": 0,
    }
    with (
        pytest.raises(StorageError, match=r"cannot store 10000\.5 \(float\) as an exact amount"),
        repo.db.transaction("insert a run", write=True) as conn,
    ):
        conn.execute(sa.insert(runs), [row])
    assert repo.list() == []


def test_json_columns_store_plain_values(repo: RunRepository) -> None:
    metrics = {
        "sharpe": float("nan"),
        "profit_factor": float("inf"),
        "fees": Decimal("12.3400"),
        "trades": np.int64(3),
        "win_rate": np.float64(0.5),
        "per_pair": {"BTC/USDT": (1, 2)},
    }
    run_id = repo.save(replace(make_run_record(), metrics=metrics))
    assert repo.get(run_id).metrics == {
        "sharpe": None,
        "profit_factor": None,
        "fees": "12.3400",
        "trades": 3,
        "win_rate": 0.5,
        "per_pair": {"BTC/USDT": [1, 2]},
    }
    with pytest.raises(StorageError, match=r"metrics\.when holds object"):
        repo.save(replace(make_run_record(), metrics={"when": object()}))


def test_result_pairs_that_differ_from_the_runs_are_kept(repo: RunRepository) -> None:
    record = replace(make_run_record(), pairs=("ETH/USDT", "BTC/USDT", "SOL/USDT"))
    got = repo.get(repo.save(record))
    assert got.pairs == ("ETH/USDT", "BTC/USDT", "SOL/USDT")
    assert got.result.pairs == ("BTC/USDT", "ETH/USDT")
    with pytest.raises(StorageError, match="timeframe '4h' differs from its result's '1h'"):
        repo.save(replace(record, timeframe="4h"))


def test_a_given_id_is_kept_and_cannot_be_saved_twice(repo: RunRepository) -> None:
    record = make_run_record(run_id="feedc0ffee01")
    assert repo.save(record) == "feedc0ffee01"
    with pytest.raises(StorageError, match=r"'feedc0ffee01' is already stored.*runs delete"):
        repo.save(record)


def test_concurrent_saves_both_land(repo: RunRepository, db_url: str) -> None:
    databases = [Database(db_url), Database(db_url)]
    records = [make_run_record(n_trades=300, name=f"worker {i}") for i in range(2)]
    try:
        ids = run_in_threads(lambda i: RunRepository(databases[i]).save(records[i]))
    finally:
        for database in databases:
            database.dispose()
    assert len(set(ids)) == 2
    for run_id, record in zip(ids, records, strict=True):
        assert_same_run(repo.get(run_id), record)


# --- listing, lookup, deletion --------------------------------------------------------------


def test_list_is_newest_first_with_limit_and_kind(repo: RunRepository) -> None:
    base = make_run_record()
    t0 = base.created_at
    repo.save(with_id(base, "aaaa00000001", t0))
    repo.save(with_id(replace(base, kind="optimize"), "aaaa00000003", t0 + 2_000))
    repo.save(with_id(base, "aaaa00000002", t0 + 1_000))
    assert [s.id for s in repo.list()] == ["aaaa00000003", "aaaa00000002", "aaaa00000001"]
    assert [s.id for s in repo.list(limit=2)] == ["aaaa00000003", "aaaa00000002"]
    assert [s.id for s in repo.list(kind="backtest")] == ["aaaa00000002", "aaaa00000001"]
    top = repo.list(limit=1)[0]
    assert top.kind == "optimize"
    assert top.pairs == ("BTC/USDT", "ETH/USDT")
    assert str(top.final_equity) == str(base.result.final_cash)
    assert (top.max_drawdown, top.sharpe, top.win_rate) == (0.0342, 1.27, 0.5)
    assert top.total_return == pytest.approx(base.metrics["total_return"])
    with pytest.raises(StorageError, match="at least 1"):
        repo.list(limit=0)


def test_a_unique_prefix_finds_the_run(repo: RunRepository) -> None:
    base = make_run_record()
    for run_id in ("abcd1111aaaa", "abcd2222bbbb", "ef0123456789"):
        repo.save(with_id(base, run_id))
    assert repo.get("ef01").run_id == "ef0123456789"
    assert repo.get("abcd1").run_id == "abcd1111aaaa"
    assert repo.resolve("abcd2222bbbb") == "abcd2222bbbb"
    with pytest.raises(RunNotFoundError, match=r"abcd1111aaaa, abcd2222bbbb.*more characters"):
        repo.get("abcd")
    with pytest.raises(RunNotFoundError, match="at least 4"):
        repo.get("ef0")
    for wildcard in ("abc%", "abcd_111"):  # LIKE wildcards are plain characters here
        with pytest.raises(RunNotFoundError):
            repo.get(wildcard)


def test_latest_is_the_most_recently_stored_run(repo: RunRepository) -> None:
    with pytest.raises(RunNotFoundError, match="no run is stored yet"):
        repo.get("latest")
    base = make_run_record()
    repo.save(with_id(base, "aaaa00000001"))
    newer = replace(base, created_at=base.created_at + 1000)
    repo.save(with_id(newer, "0000aaaa0002"))  # sorts first by id, but was stored last
    repo.save(with_id(base, "ffff00000003"))
    assert repo.resolve("latest") == "0000aaaa0002"
    assert repo.get("latest").run_id == "0000aaaa0002"


def test_unknown_id_names_the_id_and_the_list_command(repo: RunRepository) -> None:
    with pytest.raises(RunNotFoundError) as raised:
        repo.get("0123456789ab")
    assert "'0123456789ab'" in str(raised.value)
    assert "candlewick runs list" in str(raised.value)


def test_delete_cascades_to_trades_and_series(repo: RunRepository) -> None:
    keep = repo.save(make_run_record(n_trades=3))
    gone = repo.save(make_run_record(n_trades=5))
    assert count_rows(repo.db, "run_trades", gone) == 5
    assert count_rows(repo.db, "run_series", gone) == 6  # 3 arrays + 3 rejection columns
    repo.delete(gone[:6])
    assert count_rows(repo.db, "run_trades", gone) == 0
    assert count_rows(repo.db, "run_series", gone) == 0
    assert count_rows(repo.db, "run_trades", keep) == 3
    assert [s.id for s in repo.list()] == [keep]
    with pytest.raises(RunNotFoundError):
        repo.get(gone)
    with pytest.raises(RunNotFoundError):
        repo.delete(gone)


# --- the database itself --------------------------------------------------------------------


def test_sqlite_creates_its_folder_and_sets_its_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "runs.db"
    with Database(f"sqlite:///{path}") as db:
        assert path.parent.is_dir()
        with db.transaction("read the pragmas") as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}


def test_unreachable_server_error_hides_the_password() -> None:
    url = "postgresql+psycopg://bot:s3cr3t@127.0.0.1:1/candlewick"
    with Database(url) as db, pytest.raises(StorageError) as raised:
        db.migrate()
    message = str(raised.value)
    assert "s3cr3t" not in message
    assert "postgresql+psycopg://bot:***@127.0.0.1:1/candlewick" in message
    assert "cannot connect to the database" in message
    assert "Fix: check that the database server is running" in message


def test_a_file_that_is_not_a_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the bytes of an SQLite database" * 50)
    with Database(f"sqlite:///{path}") as db, pytest.raises(StorageError, match="not an SQLite"):
        db.migrate()


@pytest.mark.parametrize("url", ["not a url", "nosuchdb+driver://host/db"])
def test_bad_urls_are_reported(url: str) -> None:
    with pytest.raises(StorageError, match="CANDLEWICK_DB_URL"):
        Database(url)
