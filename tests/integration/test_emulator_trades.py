"""Public trades (``/api/v3/trades``, ``historicalTrades``, ``aggTrades``) through the real ccxt:
the replayed candles as a tape of trades that rebuilds each stored candle exactly (open, high,
low, close, volume to the step), pages by id and by time as Freqtrade's ``--dl-trades`` does,
and shows nothing after the replay clock."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from candlewick import exchanges
from candlewick.data.store import CandleStore
from candlewick.emulator.market import MINUTE
from candlewick.emulator.testing import ccxt_client, config_for, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
START = 1_774_396_800_000  # 2026-03-25 00:00 UTC
STEP = Decimal("0.00001")


def by_minute(trades: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for trade in trades:
        out.setdefault(trade["timestamp"] - trade["timestamp"] % MINUTE, []).append(trade)
    return out


def test_the_tape_rebuilds_the_stored_candles(store_root: Path) -> None:
    since = START - 2 * 3_600_000
    stored = CandleStore(store_root).read("binance", "BTC/USDT", "1m", since, since + 3_599_999)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        config = config_for(store_root, ["BTC/USDT"], speed="step", replay_start="2026-03-25")
        async with serve(config) as server:
            ex = ccxt_client(server.url)
            try:
                await ex.load_markets()
                first = await ex.fetch_trades("BTC/USDT", since=since, limit=1000)
                used = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"])
                rest = await ex.fetch_trades(
                    "BTC/USDT", limit=1000, params={"fromId": int(first[-1]["id"]) + 1}
                )
                aggregate_weight = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]) - used
                return first, rest, aggregate_weight
            finally:
                await ex.close()

    first, rest, aggregate_weight = asyncio.run(scenario())
    assert aggregate_weight == 4
    # Our facts table budgets ccxt's fetch_trades as the endpoint it really calls (aggTrades).
    (endpoint,) = [e for e in exchanges.get("binance").endpoints if "fetch_trades" in e.ccxt]
    assert (endpoint.key, endpoint.weight_for({"limit": 1000})) == ("GET /api/v3/aggTrades", 4)
    trades = [t for t in first + rest if t["timestamp"] < since + 3_600_000]
    assert [t["timestamp"] for t in first] == sorted(t["timestamp"] for t in first)
    ids = [int(t["id"]) for t in first + rest]
    assert ids == sorted(set(ids))  # paging by fromId continues without a repeat
    minutes = by_minute(trades)
    assert sorted(minutes) == [int(ts) for ts in stored.timestamp]  # every minute, in the hour
    for i, ts in enumerate(stored.timestamp):
        rows = minutes[int(ts)]
        prices = [t["price"] for t in rows]
        assert prices[0] == stored.open[i] and prices[-1] == stored.close[i]
        assert max(prices) == stored.high[i] and min(prices) == stored.low[i]
        volume = sum(Decimal(t["info"]["q"]) for t in rows)
        assert volume == (Decimal(repr(float(stored.volume[i]))) // STEP) * STEP
        assert rows[0]["timestamp"] == ts and rows[-1]["timestamp"] == ts + MINUTE - 1
        assert all(t["info"]["f"] == t["info"]["l"] == t["info"]["a"] for t in rows)


def test_recent_and_historical_trades_stop_at_the_replay_clock(store_root: Path) -> None:
    async def scenario() -> dict[str, Any]:
        config = config_for(
            store_root, ["BTC/USDT"], speed="step", replay_start="2026-03-25T00:00:30Z"
        )
        async with serve(config) as server:
            ex = ccxt_client(server.url, "any-key", "any-secret")  # ccxt wants a key for
            try:  # historicalTrades (MARKET_DATA); the emulator needs none
                await ex.load_markets()
                out: dict[str, Any] = {}
                await ex.fetch_time()
                before = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"])
                out["recent"] = await ex.public_get_trades({"symbol": "BTCUSDT", "limit": 10})
                out["weight"] = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]) - before
                first_id = out["recent"][0]["id"]
                out["historical"] = await ex.public_get_historicaltrades(
                    {"symbol": "BTCUSDT", "fromId": first_id, "limit": 1000}
                )
                out["via_ccxt"] = await ex.fetch_trades(
                    "BTC/USDT", limit=5, params={"fetchTradesMethod": "publicGetTrades"}
                )
                out["agg_recent"] = await ex.public_get_aggtrades({"symbol": "BTCUSDT"})
                out["until"] = await ex.public_get_aggtrades(
                    {"symbol": "BTCUSDT", "endTime": START - 1, "limit": 3}
                )
                with pytest.raises(ccxt.BadRequest, match="Combination of optional parameters"):
                    await ex.public_get_aggtrades(
                        {"symbol": "BTCUSDT", "fromId": first_id, "startTime": START}
                    )
                return out
            finally:
                await ex.close()

    out = asyncio.run(scenario())
    recent = out["recent"]
    assert out["weight"] == 25
    assert len(recent) == 10
    assert [r["time"] for r in recent] == sorted(r["time"] for r in recent)
    # at 00:00:30 the trades at 0 s and 20 s of the minute have happened, not those at 40 and 60 s
    assert [r["time"] for r in recent[-2:]] == [START, START + 20_000]
    assert set(recent[0]) == {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker",
                              "isBestMatch"}  # fmt: skip
    assert Decimal(recent[-1]["quoteQty"]) == Decimal(recent[-1]["price"]) * Decimal(
        recent[-1]["qty"]
    )
    assert [h["id"] for h in out["historical"]] == [r["id"] for r in recent]
    assert [t["id"] for t in out["via_ccxt"]] == [str(r["id"]) for r in recent[-5:]]
    assert out["agg_recent"][-1]["T"] == START + 20_000 and len(out["agg_recent"]) == 500
    assert [a["T"] for a in out["until"]] == [START - 40_000, START - 20_000, START - 1]
