"""The emulator imports the 1m candles its replay needs from the shared data folder on first use:
the file covering the replay window (segment files included), once, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import open_emulator
from candlewick.errors import ConfigError, DataNotFoundError
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
BTC = {"market": "BTC/USDT", "tick_size": "0.01", "step_size": "0.00001"}


def opened(store: Path, start: str | None, pairs: list[dict[str, str]]) -> tuple[int, list[str]]:
    notes: list[str] = []
    config = EmulatorConfig.model_validate(
        {"store": str(store), "speed": "step", "replay_start": start, "pairs": pairs}
    )
    emulator = open_emulator(config, say=notes.append)
    try:
        return emulator.now(), notes
    finally:
        emulator.close()


def test_the_file_covering_the_replay_window_is_imported_once(tmp_path: Path) -> None:
    store = tmp_path / "candles"
    now, notes = opened(store, "2024-08-05T00:00:00Z", [BTC])
    assert now == 1_722_816_000_000
    assert len(notes) == 1 and "binance_BTC-USDT_1m_2024-07.csv.gz" in notes[0]
    assert "43,209 bars" in notes[0] and str(store) in notes[0]
    now, notes = opened(store, "2025-06-01T00:00:00Z", [BTC])  # a window the store lacks
    assert now == 1_748_736_000_000
    assert len(notes) == 1 and "binance_BTC-USDT_1m.csv.gz" in notes[0]
    assert opened(store, "2024-08-05T00:00:00Z", [BTC])[1] == []  # nothing more to import
    assert opened(store, None, [BTC])[1] == []  # no window: the stored candles do


def test_without_a_window_the_longest_file_is_imported(tmp_path: Path) -> None:
    _, notes = opened(tmp_path / "candles", None, [BTC])
    assert len(notes) == 1 and "binance_BTC-USDT_1m.csv.gz" in notes[0]


def test_a_pair_without_shared_candles_is_still_refused(tmp_path: Path) -> None:
    doge = {"market": "DOGE/USDT", "tick_size": "0.00001", "step_size": "1"}
    with pytest.raises((ConfigError, DataNotFoundError), match="DOGE/USDT"):
        opened(tmp_path / "candles", "2026-03-25T00:00:00Z", [BTC, doge])
