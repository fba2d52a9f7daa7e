"""Where Candlewick keeps its files: the user's data directory, overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The data directory: ``$CANDLEWICK_HOME`` if set, else the platform's user data dir."""
    configured = os.environ.get("CANDLEWICK_HOME")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("candlewick", appauthor=False))


def candle_store_dir() -> Path:
    """Root of the Parquet candle store."""
    return home() / "candles"


def emulator_store_dir() -> Path:
    """The exchange emulator's own candle store: apart from the bot's, so that what a bot
    downloads from the emulator lands in the bot's store, not in the one being replayed."""
    return home() / "emulator" / "candles"


def reports_dir() -> Path:
    """Where HTML and JSON reports are written."""
    return home() / "reports"


def database_url() -> str:
    """``$CANDLEWICK_DB_URL`` if set (e.g. postgresql+psycopg://...), else SQLite in the home."""
    configured = os.environ.get("CANDLEWICK_DB_URL")
    if configured:
        return configured
    return f"sqlite:///{home() / 'candlewick.db'}"


def shared_data_dir() -> Path | None:
    """The folder of real exchange data beside the checkout (``../shared/data``), if present.

    ``$CANDLEWICK_SHARED_DATA`` overrides the location.
    """
    configured = os.environ.get("CANDLEWICK_SHARED_DATA")
    candidates = [Path(configured)] if configured else []
    repo_root = Path(__file__).resolve().parents[2]
    candidates += [repo_root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for candidate in candidates:
        if (candidate / "candles").is_dir():
            return candidate
    return None
