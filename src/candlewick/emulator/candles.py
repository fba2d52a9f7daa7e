"""The 1m candles the emulator replays: from the candle store, imported first from the shared
data folder when the store lacks them (as the backtest does on first use).

A pair is imported when the store has fewer of its 1m bars in the replay window (``replay_start``
to ``replay_end``, each open when not configured) than a file of the shared data folder
(``../shared/data``) would give, or, with no window at all, when the store has none. Bars count
only from a source that reaches ``replay_start`` (has bars before and after it), since the replay
begins there. The file is, among the pair's 1m files
(``<exchange>_<BASE>-<QUOTE>_1m[_<YYYY-MM>].csv[.gz]``, segment files included: the replay
window may be in one of them), the one giving the most bars of the window. Each import is said
in a note.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from candlewick.core.types import I64
from candlewick.data.csv_import import parse_candle_filename
from candlewick.data.sources import estimated_bars, import_file
from candlewick.data.store import CandleStore
from candlewick.emulator.config import EmulatorConfig
from candlewick.errors import DataNotFoundError
from candlewick.paths import shared_data_dir


def _shared_files(data_dir: Path, exchange: str, pair: str) -> list[Path]:
    """The shared data folder's 1m candle files of ``exchange`` ``pair``."""
    folder = data_dir / "candles"
    if not folder.is_dir():
        return []
    return [
        p for p in sorted(folder.iterdir()) if parse_candle_filename(p) == (exchange, pair, "1m")
    ]


def _bars(stored: I64, start: int | None, last: int | None) -> int:
    """How many stored bars open in ``[start, last]``: 0 unless they reach ``start``."""
    if len(stored) == 0 or (start is not None and not stored[0] <= start <= stored[-1]):
        return 0
    lo = 0 if start is None else int(np.searchsorted(stored, start))
    hi = len(stored) if last is None else int(np.searchsorted(stored, last, side="right"))
    return hi - lo


def import_missing(
    config: EmulatorConfig,
    store: CandleStore,
    data_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Import from the shared data (``data_dir``, default :func:`shared_data_dir`) the 1m
    candles of the configured pairs the store lacks for the replay window (module doc)."""
    shared = shared_data_dir() if data_dir is None else data_dir
    if shared is None:
        return
    start, end = config.start_ms(), config.end_ms()
    last = None if end is None else end - 1
    for pair in config.pairs:
        exchange, name = pair.store_key(config.exchange)
        try:
            stored = store.read(exchange, name, "1m").timestamp
        except DataNotFoundError:
            stored = np.empty(0, dtype=np.int64)
        if len(stored) and start is None and end is None:
            continue
        have = _bars(stored, start, last)
        files = _shared_files(shared, exchange, name)
        offers = [
            (estimated_bars(p, "1m", start, last), p)
            for p in files
            if start is None or estimated_bars(p, "1m", start, start) > 0  # reaches the start
        ]
        if not offers:
            continue
        bars, best = max(offers)
        if bars <= have:
            continue
        result = import_file(store, best, exchange, name, "1m")
        if say is not None:
            say(
                f"{exchange} {name} 1m: imported {result.rows_read:,} bars from {best} into the "
                f"emulator's candle store ({store.root}), for the replay"
            )
