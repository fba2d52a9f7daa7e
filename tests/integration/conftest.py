"""Database fixtures (SQLite files and a throw-away PostgreSQL database) and a RunRecord builder.

``db_url`` is parametrised over SQLite and PostgreSQL; every test gets an empty database.
PostgreSQL runs at ``$CANDLEWICK_TEST_PG_URL`` (default the local server, trust auth); the session
creates its own uniquely named database there and drops it at the end. When the server cannot be
reached the PostgreSQL tests are skipped, or fail when ``CI=true``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from candlewick.core.types import BacktestResult, ExitReason, Rejection, RunRecord, Trade

PG_ADMIN_URL = os.environ.get(
    "CANDLEWICK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "
    "(or point CANDLEWICK_TEST_PG_URL at a server)"
)

HOUR_MS = 3_600_000
T0 = 1_696_118_400_000  # 2023-10-01 00:00 UTC
FEE = Decimal("0.001")


def _pg_unavailable(reason: str) -> NoReturn:
    message = f"PostgreSQL not reachable at {_host(PG_ADMIN_URL)}: {reason}; {PG_START_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: PostgreSQL tests must run, not skip)", pytrace=False)
    pytest.skip(message)


def _host(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end), as a URL."""
    admin = create_engine(
        PG_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )
    name = f"candlewick_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as error:
        admin.dispose()
        _pg_unavailable(" ".join(str(getattr(error, "orig", error)).split())[:200])
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_pg_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty database: a new SQLite file, or the session's emptied PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sub' / 'candlewick.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    _reset_pg_schema(url)
    return url


def _trade(pair: str, i: int, entry_price: Decimal, exit_price: Decimal, cash: Decimal) -> Trade:
    """A long trade with Binance spot fees: buy fee in base, sell fee in quote."""
    qty = (cash / entry_price).quantize(Decimal("0.00001"))
    entry_fee = qty * FEE
    qty_net = qty - entry_fee
    gross = qty_net * exit_price
    exit_fee = gross * FEE
    entry_ts = T0 + (10 * i + 1) * HOUR_MS
    bars = 3 + i % 7
    return Trade(
        pair=pair,
        signal_ts=entry_ts - HOUR_MS,
        entry_ts=entry_ts,
        exit_ts=entry_ts + bars * HOUR_MS,
        entry_price=entry_price,
        exit_price=exit_price,
        qty=qty,
        qty_net=qty_net,
        cost=qty * entry_price,
        proceeds=gross - exit_fee,
        entry_fee=entry_fee,
        exit_fee=exit_fee,
        exit_reason=list(ExitReason)[i % len(ExitReason)],
        bars_held=bars,
    )


def make_run_record(
    *,
    n_trades: int = 4,
    name: str = "ema-cross BTC/ETH 1h",
    kind: str = "backtest",
    created_at: int = T0 + 400 * 24 * HOUR_MS,
    run_id: str = "",
) -> RunRecord:
    """A realistic two-pair 1h backtest run with ``n_trades`` trades and exact decimal amounts."""
    pairs = ("BTC/USDT", "ETH/USDT")
    bars = max(24, 10 * n_trades + 12)
    initial = Decimal("10000")
    trades = []
    for i in range(n_trades):
        pair = pairs[i % 2]
        base = Decimal("27012.34") if pair == "BTC/USDT" else Decimal("1650.07")
        entry = base + Decimal(i % 50) * Decimal("1.17")
        move = Decimal(1) + Decimal((i * 37) % 11 - 4) / Decimal(400)
        exit_price = (entry * move).quantize(Decimal("0.01"))
        trades.append(_trade(pair, i, entry, exit_price, Decimal("1000")))
    final = initial + sum((t.pnl for t in trades), Decimal(0))
    rng = np.random.default_rng(7)
    timestamp = T0 + HOUR_MS * np.arange(bars, dtype=np.int64)
    equity = np.asarray(float(initial) * np.cumprod(1 + rng.normal(0, 0.002, bars)), np.float64)
    exposure = np.where(np.arange(bars) % 10 < 5, 0.1, 0.0)
    result = BacktestResult(
        pairs=pairs,
        timeframe="1h",
        quote="USDT",
        initial_cash=initial,
        final_cash=final,
        trades=tuple(trades),
        timestamp=timestamp,
        equity=equity,
        exposure=exposure,
        rejections=(
            Rejection("ETH/USDT", T0 + 5 * HOUR_MS, "max_open_positions"),
            Rejection("BTC/USDT", T0 + 9 * HOUR_MS, "insufficient_cash"),
        ),
        halted_at=None,
        bars=bars,
        meta={"engine": "vectorised", "version": "0.1.0"},
    )
    return RunRecord(
        run_id=run_id,
        kind=kind,
        name=name,
        created_at=created_at,
        config={
            "strategy": {"setup": "ema_cross", "params": {"fast": 12, "slow": 26}},
            "risk": {"stop_loss_pct": 0.02, "max_open_positions": 2},
            "fees": {"taker": "0.001"},
            "pairs": list(pairs),
        },
        exchange="binance",
        pairs=pairs,
        timeframe="1h",
        start_ts=int(timestamp[0]),
        end_ts=int(timestamp[-1]) + HOUR_MS,
        metrics={
            "total_return": float(final / initial - 1),
            "max_drawdown": 0.0342,
            "sharpe": 1.27,
            "win_rate": 0.5,
            "trades": n_trades,
        },
        result=result,
    )


def with_id(record: RunRecord, run_id: str, created_at: int | None = None) -> RunRecord:
    """``record`` with another id (and creation time)."""
    return replace(
        record, run_id=run_id, created_at=record.created_at if created_at is None else created_at
    )


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A candle store with the shared data's 30 days of BTC/USDT and ETH/USDT 1m candles, for
    the emulator tests (a module may override it with other markets)."""
    from candlewick.emulator.testing import import_march_2026
    from candlewick.paths import shared_data_dir

    shared = shared_data_dir()
    if shared is None:
        pytest.skip("../shared/data is not beside the checkout")
    root = tmp_path_factory.mktemp("candles")
    import_march_2026(root, shared, ["BTC/USDT", "ETH/USDT"])
    return root
