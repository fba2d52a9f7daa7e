"""Bars set aside instead of stored: ``<store root>/.quarantine/<exchange>_<slug>_<tf>.csv``.

An importer sets aside the bars it will not use but will not refuse a file for either (a lone
bar far from the rest of the series). The file has the candle CSV format and a name that says
the series, so ``candlewick data import`` takes the bars back when the user decides they are
right (a file of those bars alone has no rest to be far from). Bars set aside again for the
same timestamps replace the earlier ones.
"""

from __future__ import annotations

import os
from pathlib import Path

from candlewick.core.types import OHLCV_COLUMNS, Candles
from candlewick.data.names import normalise_exchange, normalise_pair, pair_slug
from candlewick.data.parquet_file import COLUMNS
from candlewick.data.store import CandleStore


def quarantine_path(store: CandleStore, exchange: str, pair: str, timeframe: str) -> Path:
    """Where the series' set-aside bars are kept."""
    exchange, pair = normalise_exchange(exchange), normalise_pair(pair)
    return store.root / ".quarantine" / f"{exchange}_{pair_slug(pair)}_{timeframe}.csv"


def set_aside(store: CandleStore, candles: Candles) -> Path:
    """Add ``candles`` to the series' quarantine file (under the series' writer lock); its path."""
    path = quarantine_path(store, candles.exchange, candles.pair, candles.timeframe)
    columns = [candles.timestamp.tolist(), *(candles.column(c).tolist() for c in OHLCV_COLUMNS)]
    exchange, pair = normalise_exchange(candles.exchange), normalise_pair(candles.pair)
    with store.lock(exchange, pair, candles.timeframe):
        rows: dict[int, str] = {}
        if path.exists():
            for line in path.read_text().splitlines()[1:]:
                if line.strip():
                    rows[int(line.split(",", 1)[0])] = line
        for ts, *values in zip(*columns, strict=True):
            rows[int(ts)] = ",".join([str(int(ts)), *(repr(float(v)) for v in values)])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text("\n".join([",".join(COLUMNS), *(rows[t] for t in sorted(rows))]) + "\n")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return path
