"""Persistence: the database (SQLAlchemy 2, SQLite or PostgreSQL), Alembic migrations, runs.

```
from candlewick.storage import RunRepository, open_database

with open_database() as db:          # CANDLEWICK_DB_URL or SQLite in the data dir, migrated
    run_id = RunRepository(db).save(record)
```
"""

from candlewick.storage.db import HEAD_REVISION, Database, open_database
from candlewick.storage.models import RunStatus
from candlewick.storage.runs import RunRepository, RunSummary

__all__ = [
    "HEAD_REVISION",
    "Database",
    "RunRepository",
    "RunStatus",
    "RunSummary",
    "open_database",
]
