"""The port the gateway calls: the subset of ccxt's unified async API Candlewick uses.

A ``ccxt.async_support`` exchange object satisfies :class:`ExchangeClient` as it is (see
:func:`candlewick.api.ccxt_client.connect`); tests implement it with a small fake. Whatever
implements it reports failures with ccxt's exception classes (``ccxt.NetworkError``,
``ccxt.InsufficientFunds`` ...), which the gateway translates into Candlewick's tree, and
keeps the headers of its last HTTP response in ``last_response_headers``.

Only the gateway calls these methods: bots, feeds and the CLI go through
:class:`candlewick.api.gateway.Gateway`, which owns the rate budgets and the retry policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

Json = dict[str, Any]


class ExchangeClient(Protocol):
    """ccxt's unified methods as Candlewick calls them (ccxt signatures and return shapes)."""

    @property
    def id(self) -> str:
        """ccxt's exchange id ("binance")."""
        ...

    @property
    def last_response_headers(self) -> Mapping[str, str] | None:
        """The headers of the last HTTP response (ccxt sets them before raising, too)."""
        ...

    async def load_markets(self, reload: bool = False, params: Json = ...) -> Json: ...

    async def fetch_time(self, params: Json = ...) -> int | None: ...

    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: Json = ...,
    ) -> list[list[Any]]: ...

    async def fetch_ticker(self, symbol: str, params: Json = ...) -> Json: ...

    async def fetch_tickers(self, symbols: list[str] | None = ..., params: Json = ...) -> Json: ...

    async def fetch_order_book(
        self, symbol: str, limit: int | None = ..., params: Json = ...
    ) -> Json: ...

    async def fetch_balance(self, params: Json = ...) -> Json: ...

    async def fetch_trading_fees(self, params: Json = ...) -> Json: ...

    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = ...,
        params: Json = ...,
    ) -> Json: ...

    async def cancel_order(self, id: str, symbol: str | None = ..., params: Json = ...) -> Json: ...

    async def fetch_order(
        self, id: str | None, symbol: str | None = ..., params: Json = ...
    ) -> Json: ...

    async def fetch_open_orders(
        self,
        symbol: str | None = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: Json = ...,
    ) -> list[Json]: ...

    async def fetch_my_trades(
        self,
        symbol: str | None = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: Json = ...,
    ) -> list[Json]: ...

    async def fetch_deposits(
        self,
        code: str | None = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: Json = ...,
    ) -> list[Json]: ...

    async def fetch_withdrawals(
        self,
        code: str | None = ...,
        since: int | None = ...,
        limit: int | None = ...,
        params: Json = ...,
    ) -> list[Json]: ...

    async def fetch_status(self, params: Json = ...) -> Json: ...

    async def close(self) -> None: ...
