"""The run repository: save, list, load and delete runs (backtests and friends) in the database.

A run is three kinds of rows written in one transaction: its ``runs`` row (what was run, the
config snapshot, metrics and headline numbers), one ``run_trades`` row per trade (amounts as
exact decimals) and one ``run_series`` row per array (timestamps, equity, exposure and the
rejected signals) as zlib-compressed ``.npy`` bytes (see :mod:`.encoding` for the JSON and
array conventions).

Every run has a :class:`~candlewick.storage.models.RunStatus`: ``ok``, or ``lookahead_failed``
for a run whose signals read the future; it is kept, marked, never passed off as a good run.
``checks`` records what was checked (e.g. the lookahead check's cuts and differences).
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from candlewick.core.types import BacktestResult, ExitReason, Rejection, RunRecord, Trade
from candlewick.errors import RunNotFoundError, StorageError
from candlewick.storage.db import Database
from candlewick.storage.encoding import decode_array, encode_array, jsonable
from candlewick.storage.models import (
    AMOUNT_FIELDS,
    DECIMAL_CHARS,
    RunStatus,
    run_series,
    run_trades,
    runs,
)

RUN_ID_BYTES = 6
"""Generated run ids are ``2 * RUN_ID_BYTES`` lowercase hex characters."""

MIN_PREFIX = 4
"""Shortest id prefix accepted in place of a whole id."""

_TRADE_COLUMNS = ("pair", "signal_ts", "entry_ts", "exit_ts", *AMOUNT_FIELDS)
_LIST_HINT = "see the stored runs with `candlewick runs list`"
#: Accepted in place of a run id: the most recently stored run.
LATEST = "latest"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of the run list: what was run and its headline results."""

    id: str
    kind: str
    name: str
    created_at: int
    exchange: str
    pairs: tuple[str, ...]
    timeframe: str
    start_ts: int
    end_ts: int
    trade_count: int
    initial_cash: Decimal
    final_equity: Decimal
    max_drawdown: float | None
    sharpe: float | None
    win_rate: float | None
    status: RunStatus = RunStatus.OK
    checks: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        """True when a check failed: the run's results cannot be trusted."""
        return self.status is not RunStatus.OK

    @property
    def total_return(self) -> float | None:
        """Final equity over initial cash, minus one (None without initial cash)."""
        if not self.initial_cash:
            return None
        return float(self.final_equity / self.initial_cash - 1)


class RunRepository:
    """Stored runs in one :class:`~candlewick.storage.db.Database` (already migrated)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(
        self,
        record: RunRecord,
        *,
        status: RunStatus | str = RunStatus.OK,
        checks: Mapping[str, Any] | None = None,
    ) -> str:
        """Store ``record`` in one transaction and return its id.

        An empty ``record.run_id`` gets a fresh random id; a given id must not be stored yet.
        ``status`` marks a run that failed a check; ``checks`` (JSON-able) says what was
        checked and found.
        """
        run = _run_values(record) | {
            "status": run_status(status).value,
            "checks": None if checks is None else jsonable(checks, "checks"),
        }
        trades = record.result.trades
        series = _series_values(record.result)
        with self.db.transaction("save the run", write=True) as conn:
            run_id = record.run_id or _new_id(conn)
            if record.run_id and _exists(conn, run_id):
                raise StorageError(
                    f"a run with id {run_id!r} is already stored; delete it first "
                    f"(candlewick runs delete {run_id}) or save with an empty run_id"
                )
            conn.execute(sa.insert(runs), [{**run, "id": run_id}])
            if trades:
                # Straight to the driver's executemany: SQLAlchemy's per-value type processing
                # dominated saving large runs (amounts are already canonical strings here).
                # In chunks, so that a run of 200,000 trades never holds all rows at once.
                mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
                names = ", ".join(_TRADE_ROW)
                sql = (
                    f"INSERT INTO run_trades (run_id, {names}) "
                    f"VALUES ({', '.join([mark] * (len(_TRADE_ROW) + 1))})"
                )
                for start in range(0, len(trades), _CHUNK):
                    rows = _trade_rows(trades[start : start + _CHUNK], start)
                    conn.exec_driver_sql(sql, [(run_id, *row) for row in rows])
            conn.execute(
                sa.insert(run_series),
                [{"run_id": run_id, "name": name, "data": data} for name, data in series],
            )
        return run_id

    def list(
        self, limit: int = 50, kind: str | None = None, status: RunStatus | str | None = None
    ) -> builtins.list[RunSummary]:
        """The newest ``limit`` runs, newest first, optionally only one ``kind`` or ``status``."""
        if limit < 1:
            raise StorageError(f"limit must be at least 1, got {limit}")
        query = _SUMMARY_QUERY.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(runs.c.kind == kind)
        if status is not None:
            query = query.where(runs.c.status == run_status(status).value)
        with self.db.transaction("list the runs") as conn:
            return [_summary(row) for row in conn.execute(query)]

    def summary(self, run_id: str) -> RunSummary:
        """The list line of the run ``run_id`` (or a unique prefix of it)."""
        with self.db.transaction("look the run up") as conn:
            full_id = _resolve(conn, run_id)
            return _summary(conn.execute(_SUMMARY_QUERY.where(runs.c.id == full_id)).one())

    def resolve(self, run_id: str) -> str:
        """The full id of the run whose id is ``run_id`` or starts with it (>= 4 characters)."""
        with self.db.transaction("look the run up") as conn:
            return _resolve(conn, run_id)

    def get(self, run_id: str) -> RunRecord:
        """The stored run ``run_id`` (a unique prefix of it, or ``latest``) with its trades
        and arrays."""
        with self.db.transaction("load the run") as conn:
            full_id = _resolve(conn, run_id)
            run = conn.execute(sa.select(runs).where(runs.c.id == full_id)).one()
            trade_rows = conn.execute(
                sa.select(run_trades)
                .where(run_trades.c.run_id == full_id)
                .order_by(run_trades.c.seq)
            ).all()
            series_rows = conn.execute(
                sa.select(run_series.c.name, run_series.c.data).where(
                    run_series.c.run_id == full_id
                )
            ).all()
        arrays = {row.name: decode_array(row.data, row.name) for row in series_rows}
        pairs = tuple(run.pairs)
        result = BacktestResult(
            pairs=pairs if run.result_pairs is None else tuple(run.result_pairs),
            timeframe=run.timeframe,
            quote=run.quote,
            initial_cash=run.initial_cash,
            final_cash=run.final_equity,
            trades=tuple(_trade(row, full_id) for row in trade_rows),
            timestamp=arrays.get("timestamp", np.zeros(0, np.int64)).astype(np.int64, copy=False),
            equity=arrays.get("equity", np.zeros(0)).astype(np.float64, copy=False),
            exposure=arrays.get("exposure", np.zeros(0)).astype(np.float64, copy=False),
            rejections=_rejections(arrays),
            halted_at=run.halted_at,
            bars=run.bars,
            meta={str(k): str(v) for k, v in run.meta.items()},
        )
        return RunRecord(
            run_id=full_id,
            kind=run.kind,
            name=run.name,
            created_at=run.created_at,
            config=run.config,
            exchange=run.exchange,
            pairs=pairs,
            timeframe=run.timeframe,
            start_ts=run.start_ts,
            end_ts=run.end_ts,
            metrics=run.metrics,
            result=result,
        )

    def delete(self, run_id: str) -> None:
        """Delete the run ``run_id`` (or a unique prefix of it) with its trades and series."""
        with self.db.transaction("delete the run", write=True) as conn:
            full_id = _resolve(conn, run_id)
            conn.execute(sa.delete(runs).where(runs.c.id == full_id))


_SUMMARY_QUERY = sa.select(
    runs.c.id,
    runs.c.kind,
    runs.c.name,
    runs.c.created_at,
    runs.c.exchange,
    runs.c.pairs,
    runs.c.timeframe,
    runs.c.start_ts,
    runs.c.end_ts,
    runs.c.trade_count,
    runs.c.initial_cash,
    runs.c.final_equity,
    runs.c.metrics,
    runs.c.status,
    runs.c.checks,
)


def _summary(row: sa.Row[*tuple[Any, ...]]) -> RunSummary:
    return RunSummary(
        id=row.id,
        kind=row.kind,
        name=row.name,
        created_at=row.created_at,
        exchange=row.exchange,
        pairs=tuple(row.pairs),
        timeframe=row.timeframe,
        start_ts=row.start_ts,
        end_ts=row.end_ts,
        trade_count=row.trade_count,
        initial_cash=row.initial_cash,
        final_equity=row.final_equity,
        max_drawdown=_metric(row.metrics, "max_drawdown"),
        sharpe=_metric(row.metrics, "sharpe"),
        win_rate=_metric(row.metrics, "win_rate"),
        status=_stored_status(row.status, row.id),
        checks=row.checks,
    )


def run_status(value: RunStatus | str) -> RunStatus:
    """``value`` as a :class:`RunStatus`; StorageError naming the known ones otherwise."""
    try:
        return RunStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in RunStatus)
        raise StorageError(f"unknown run status {value!r}; use one of {known}") from None


def _stored_status(value: str, run_id: str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError:
        raise StorageError(
            f"run {run_id} has the unknown status {value!r}; it was written by a newer "
            "Candlewick, upgrade to read it"
        ) from None


def _new_id(conn: Connection) -> str:
    for _ in range(5):
        run_id = secrets.token_hex(RUN_ID_BYTES)
        if not _exists(conn, run_id):
            return run_id
    raise StorageError("could not draw an unused run id in 5 attempts; is the runs table full?")


def _exists(conn: Connection, run_id: str) -> bool:
    return conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is not None


def _resolve(conn: Connection, run_id: str) -> str:
    run_id = run_id.strip()
    if not run_id:
        raise RunNotFoundError(f"no run id given; {_LIST_HINT}")
    if _exists(conn, run_id):
        return run_id
    if run_id == LATEST:
        newest = conn.execute(
            sa.select(runs.c.id).order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(1)
        ).scalar()
        if newest is None:
            raise RunNotFoundError(f"no run is stored yet, so there is no {LATEST!r} run")
        return str(newest)
    if len(run_id) < MIN_PREFIX:
        raise RunNotFoundError(
            f"no stored run has the id {run_id!r} (a prefix needs at least {MIN_PREFIX} "
            f"characters); {_LIST_HINT}"
        )
    matches = list(
        conn.execute(
            sa.select(runs.c.id)
            .where(runs.c.id.startswith(run_id, autoescape=True))
            .order_by(runs.c.id)
            .limit(5)
        ).scalars()
    )
    if not matches:
        raise RunNotFoundError(f"no stored run has the id {run_id!r}; {_LIST_HINT}")
    if len(matches) > 1:
        shown = ", ".join(matches[:4]) + (", ..." if len(matches) > 4 else "")
        raise RunNotFoundError(
            f"the id prefix {run_id!r} matches several runs ({shown}); give more characters"
        )
    return str(matches[0])


def _run_values(record: RunRecord) -> dict[str, Any]:
    result = record.result
    if record.timeframe != result.timeframe:
        raise StorageError(
            f"run {record.name!r}: the record's timeframe {record.timeframe!r} differs from its "
            f"result's {result.timeframe!r}; a run has one timeframe"
        )
    same_pairs = tuple(record.pairs) == tuple(result.pairs)
    return {
        "kind": record.kind,
        "name": record.name,
        "created_at": int(record.created_at),
        "exchange": record.exchange,
        "pairs": list(record.pairs),
        "result_pairs": None if same_pairs else list(result.pairs),
        "timeframe": record.timeframe,
        "quote": result.quote,
        "start_ts": int(record.start_ts),
        "end_ts": int(record.end_ts),
        "config": jsonable(record.config, "config"),
        "metrics": jsonable(record.metrics, "metrics"),
        "meta": jsonable(result.meta, "result.meta"),
        "initial_cash": _amount(result.initial_cash, "result.initial_cash"),
        "final_equity": _amount(result.final_cash, "result.final_cash"),
        "bars": int(result.bars),
        "trade_count": len(result.trades),
        "halted_at": None if result.halted_at is None else int(result.halted_at),
    }


_TRADE_ROW = (
    "seq",
    "pair",
    "signal_ts",
    "entry_ts",
    "exit_ts",
    *AMOUNT_FIELDS,
    "exit_reason",
    "bars_held",
)


_CHUNK = 10_000


def _trade_rows(trades: Sequence[Trade], first_seq: int = 0) -> list[tuple[Any, ...]]:
    """The trades as rows of :data:`_TRADE_ROW`, amounts as their exact decimal strings.

    Column-wise and in C where possible: a year of 1m bars can hold 200,000 trades.
    """
    amounts = [_AMOUNTS(t) for t in trades]
    for k, values in enumerate(amounts):
        for name, value in zip(AMOUNT_FIELDS, values, strict=True):
            if type(value) is not Decimal:
                _amount(value, f"trade #{first_seq + k} ({trades[k].pair}) {name}")
    texts = [tuple(map(str, values)) for values in amounts]
    longest = max(map(len, chain.from_iterable(texts)), default=0)
    if longest > DECIMAL_CHARS:
        raise StorageError(
            f"an amount has {longest} characters, more than the {DECIMAL_CHARS} a stored "
            "amount can hold; quantize it before saving"
        )
    return [
        (
            seq,
            t.pair,
            int(t.signal_ts),
            int(t.entry_ts),
            int(t.exit_ts),
            *text,
            str(t.exit_reason),
            int(t.bars_held),
        )
        for seq, (t, text) in enumerate(zip(trades, texts, strict=True), start=first_seq)
    ]


_AMOUNTS = attrgetter(*AMOUNT_FIELDS)


def _amount(value: object, where: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise StorageError(
            f"{where} is {value!r} ({type(value).__name__}); amounts must be decimal.Decimal"
        )
    return value


def _trade(row: sa.Row[*tuple[Any, ...]], run_id: str) -> Trade:
    try:
        reason = ExitReason(row.exit_reason)
    except ValueError as error:
        raise StorageError(
            f"run {run_id}: trade #{row.seq} has the unknown exit reason {row.exit_reason!r}; "
            "it was written by a newer Candlewick, upgrade to read it"
        ) from error
    values = {name: getattr(row, name) for name in _TRADE_COLUMNS}
    return Trade(**values, exit_reason=reason, bars_held=row.bars_held)


def _series_values(result: BacktestResult) -> list[tuple[str, bytes]]:
    arrays: list[tuple[str, npt.NDArray[Any]]] = [
        ("timestamp", np.asarray(result.timestamp, dtype=np.int64)),
        ("equity", np.asarray(result.equity, dtype=np.float64)),
        ("exposure", np.asarray(result.exposure, dtype=np.float64)),
    ]
    if result.rejections:
        rejections = result.rejections
        arrays += [
            ("rejections.pair", np.array([r.pair for r in rejections], dtype=np.str_)),
            ("rejections.signal_ts", np.array([r.signal_ts for r in rejections], np.int64)),
            ("rejections.reason", np.array([r.reason for r in rejections], dtype=np.str_)),
        ]
    return [(name, encode_array(array)) for name, array in arrays]


def _rejections(arrays: Mapping[str, npt.NDArray[Any]]) -> tuple[Rejection, ...]:
    if "rejections.pair" not in arrays:
        return ()
    return tuple(
        Rejection(str(pair), int(ts), str(reason))
        for pair, ts, reason in zip(
            arrays["rejections.pair"],
            arrays["rejections.signal_ts"],
            arrays["rejections.reason"],
            strict=True,
        )
    )


def _metric(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
