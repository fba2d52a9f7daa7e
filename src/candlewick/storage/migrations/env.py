"""Alembic environment of Candlewick's storage.

:meth:`candlewick.storage.db.Database.migrate` runs Alembic programmatically and hands over its
own connection (already in a locked transaction) through ``config.attributes["connection"]``.
Run by hand (``alembic -x url=... revision --autogenerate``, with ``script_location`` pointing
here), it opens the database of ``-x url=...`` or :func:`candlewick.paths.database_url`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from candlewick.storage.models import metadata

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations instead of running them (``alembic upgrade --sql``)."""
    context.configure(
        url=context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the caller's connection, or on a database opened here."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from candlewick.storage.db import Database

    database = Database(context.get_x_argument(as_dictionary=True).get("url") or _default_url())
    try:
        with database.engine.connect() as own_connection:
            _configure(own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        database.dispose()


def _default_url() -> str:
    from candlewick.paths import database_url

    return database_url()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
