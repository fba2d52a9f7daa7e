"""The database: one SQLAlchemy engine per URL, SQLite tuned for concurrent use, cheap migrations.

SQLite (the embedded default) gets WAL journaling, foreign keys and a busy timeout on every
connection, and real transactions: pysqlite's own transaction handling is switched off and
SQLAlchemy emits ``BEGIN`` itself, ``BEGIN IMMEDIATE`` for writes, so that two processes writing
at once queue on the busy timeout instead of failing, and DDL is transactional.

:meth:`Database.migrate` reads ``alembic_version`` with plain SQL and imports Alembic only when
the schema is behind :data:`HEAD_REVISION` (importing Alembic costs about 0.1 s of start-up).

Every SQLAlchemy or driver error that leaves this module is a
:class:`~candlewick.errors.StorageError` naming the database (password hidden) and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from candlewick.errors import CandlewickError, StorageError

HEAD_REVISION = "0002"
"""Newest migration in ``migrations/versions``; a test checks it against Alembic's own view."""

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write to finish before failing."""

_BEGIN_OPTION = "candlewick_sqlite_begin"
# Any fixed 64-bit key: serialises concurrent migrations of one PostgreSQL database.
_PG_MIGRATION_LOCK_KEY = 0x43616E646C65


class Database:
    """A database at ``url`` (``sqlite:///path`` or ``postgresql+psycopg://user@host/db``).

    Creating it does not connect; the first query does. Use it as a context manager, or call
    :meth:`dispose`, to close its connections.
    """

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except exc.ArgumentError as error:
            raise StorageError(
                f"{url!r} is not a database URL ({error}); set CANDLEWICK_DB_URL to e.g. "
                "sqlite:////path/to/candlewick.db or postgresql+psycopg://user@host:5432/name"
            ) from error
        self.url: URL = parsed
        self.display_url = parsed.render_as_string(hide_password=True)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            _ensure_sqlite_folder(parsed, self.display_url)
        try:
            self.engine: Engine = sa.create_engine(parsed, pool_pre_ping=not self.is_sqlite)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
            raise StorageError(
                f"cannot use the database URL {self.display_url}: {error}. Fix: use "
                "sqlite:///... or postgresql+psycopg://... in CANDLEWICK_DB_URL"
            ) from error
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close every pooled connection (the object stays usable: it reconnects on demand)."""
        self.engine.dispose()

    @contextmanager
    def transaction(self, action: str, *, write: bool = False) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        ``action`` ("save the run") goes into the error message. ``write=True`` takes SQLite's
        write lock at ``BEGIN`` (waiting up to the busy timeout) rather than at the first write,
        which would fail at once if another writer committed in between.
        """
        try:
            conn = self.engine.connect()
        except exc.SQLAlchemyError as error:
            raise self.error("connect to the database", error) from error
        try:
            with conn:
                if write and self.is_sqlite:
                    conn.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
                with conn.begin():
                    yield conn
        except exc.SQLAlchemyError as error:
            raise self.error(action, error) from error

    def error(self, action: str, error: BaseException) -> CandlewickError:
        """The :class:`StorageError` for ``error`` raised while trying to ``action``."""
        if isinstance(error, exc.StatementError) and isinstance(error.orig, CandlewickError):
            return error.orig  # raised by one of our own column types while binding a value
        orig = error.orig if isinstance(error, exc.DBAPIError) else None
        detail = " ".join(str(orig if orig is not None else error).split())
        if self.url.password:
            detail = detail.replace(str(self.url.password), "***")
        if len(detail) > 300:
            detail = detail[:300] + "..."
        if not detail.endswith((".", "?", "!")):
            detail += "."
        return StorageError(
            f"cannot {action} ({self.display_url}): {detail} Fix: {self._hint(detail, error)}."
        )

    def _hint(self, detail: str, error: BaseException) -> str:
        text = detail.lower()
        if "database is locked" in text:
            return "another process holds the database's write lock for too long; retry later"
        if "no such table" in text or "does not exist" in text:
            if not self.is_sqlite and "database" in text:
                return "create the database (createdb) or correct the name in CANDLEWICK_DB_URL"
            return "the schema is missing; call Database.migrate() (every command does)"
        if self.is_sqlite:
            if "not a database" in text:
                return "the file is not an SQLite database; point CANDLEWICK_DB_URL elsewhere"
            return (
                "check that the file's folder exists and is writable, or set "
                "CANDLEWICK_HOME / CANDLEWICK_DB_URL to another location"
            )
        if isinstance(error, exc.OperationalError | exc.InterfaceError):
            return (
                "check that the database server is running and reachable and that "
                "CANDLEWICK_DB_URL (user, password, host, port, database) is right"
            )
        return "check the database and CANDLEWICK_DB_URL"

    def current_revision(self) -> str | None:
        """The schema revision stored in ``alembic_version``, or None for an empty database."""
        with self.transaction("read the schema version") as conn:
            return _revision(conn)

    def migrate(self) -> bool:
        """Upgrade the schema to :data:`HEAD_REVISION`; return whether anything had to run.

        Safe to call from several processes at once: the upgrade runs under a lock (SQLite's
        write lock, a PostgreSQL advisory lock) and Alembic re-reads the revision inside it.
        """
        if self.current_revision() == HEAD_REVISION:
            return False
        from alembic import command
        from alembic.config import Config
        from alembic.util import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.transaction("migrate the database", write=True) as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": _PG_MIGRATION_LOCK_KEY},
                    )
                if _revision(conn) == HEAD_REVISION:
                    return False  # another process migrated while we waited for the lock
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except CommandError as error:
            raise StorageError(
                f"cannot migrate the database ({self.display_url}): {error}. Fix: if the "
                "database was written by a newer Candlewick, upgrade Candlewick or point "
                "CANDLEWICK_DB_URL at another database"
            ) from error
        return True


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """The database at ``url`` (default: :func:`candlewick.paths.database_url`), migrated."""
    if url is None:
        from candlewick.paths import database_url

        url = database_url()
    database = Database(url)
    if migrate:
        try:
            database.migrate()
        except BaseException:
            database.dispose()
            raise
    return database


def _revision(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    versions = list(conn.execute(sa.text("SELECT version_num FROM alembic_version")))
    return str(versions[0][0]) if len(versions) == 1 else None


def _ensure_sqlite_folder(url: URL, display_url: str) -> None:
    """Create the folder of a SQLite file, so a fresh install works without set-up."""
    database = url.database or ""
    if database.startswith("file:"):  # URI filename: file:path?mode=...
        if url.query.get("mode") == "memory":
            return
        database = database[len("file:") :].split("?", 1)[0]
    if not database or database == ":memory:":
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(
            f"cannot create the folder {folder} for the database {display_url}: {error}. "
            "Fix: set CANDLEWICK_HOME or CANDLEWICK_DB_URL to a writable location"
        ) from error


def _configure_sqlite(engine: Engine) -> None:
    """Per-connection pragmas, and transactions that SQLAlchemy (not pysqlite) begins."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not BEGIN on its own
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (a persistent setting, so usually already done).

    Two connections switching a new file at once get "database is locked" at once, without the
    busy timeout (SQLite avoids a deadlock there), so the switch is retried for a while.
    """
    import sqlite3
    import time

    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
