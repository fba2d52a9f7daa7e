"""Suite-wide checks: under CI the real market data must be there (tests must not skip)."""

from __future__ import annotations

import os

import pytest

from candlewick.paths import shared_data_dir


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail fast in CI when ../shared/data is missing instead of skipping half the suite."""
    if os.environ.get("CI") == "true" and shared_data_dir() is None:
        raise pytest.UsageError(
            "CI=true but ../shared/data (real exchange candles) is not beside the checkout; "
            "set CANDLEWICK_SHARED_DATA to its location"
        )
