"""Kraken spot: the public facts, to prove the data model is not Binance-shaped.

Kraken counts differently from Binance: private REST calls add to a per-API-key counter that
decays continuously (not a fixed window), and order placement and cancels add to a separate
per-pair counter of the matching engine. Both are ``decaying_counter`` rate limits here.
Starter-tier values are used (the most conservative); notes give the other tiers.
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

from candlewick.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    OrderNotFoundError,
    OrderRejectedError,
    RateLimitError,
    UnknownSymbolError,
)
from candlewick.exchanges.model import (
    Endpoint,
    ErrorCode,
    ExchangeFacts,
    FeeSchedule,
    FeeTier,
    RateLimit,
    Route,
    Stablecoin,
    Urls,
)

SOURCES = MappingProxyType(
    {
        "REST": "https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits",
        "TRADING": "https://docs.kraken.com/api/docs/guides/spot-ratelimits "
        "and support.kraken.com/articles/360045239571 (Trading rate limits)",
        "ccxt": "ccxt 4.5.90 ccxt/kraken.py (describe(): urls, api costs, fees, exceptions)",
        "ccxt.pro": "ccxt 4.5.90 ccxt/pro/kraken.py (ws urls)",
        "obs.": "AssetPairs capture 2021-04-17 in the shared exchange fixtures",
    }
)


def _public(name: str, ccxt: tuple[str, ...] = (), max_limit: int | None = None) -> Endpoint:
    return Endpoint(
        "GET", "/0/public/" + name, 1, "ccxt", group="public", ccxt=ccxt, max_limit=max_limit
    )


def _private(name: str, weight: int = 1, ccxt: tuple[str, ...] = (), orders: int = 0) -> Endpoint:
    return Endpoint(
        "POST",
        "/0/private/" + name,
        weight,
        "REST" if orders == 0 else "TRADING",
        group="private",
        orders=orders,
        security="PRIVATE",
        ccxt=ccxt,
    )


ENDPOINTS = (
    _public("Time", ("fetch_time",)),
    _public("SystemStatus", ("fetch_status",)),
    _public("Assets", ("fetch_currencies",)),
    _public("AssetPairs", ("load_markets", "fetch_markets")),
    _public("Ticker", ("fetch_ticker", "fetch_tickers")),
    _public("OHLC", ("fetch_ohlcv",), max_limit=720),  # the most recent 720 bars only
    _public("Depth", ("fetch_order_book",)),
    _public("Trades", ("fetch_trades",)),
    _private("BalanceEx", ccxt=("fetch_balance",)),
    _private("OpenOrders", ccxt=("fetch_open_orders",)),
    _private("ClosedOrders", ccxt=("fetch_closed_orders",)),
    _private("QueryOrders", ccxt=("fetch_order",)),
    _private("TradesHistory", 2, ("fetch_my_trades",)),
    _private("Ledgers", 2, ("fetch_ledger",)),
    _private("TradeVolume", ccxt=("fetch_trading_fee", "fetch_trading_fees")),
    _private("DepositStatus", ccxt=("fetch_deposits",)),
    _private("WithdrawStatus", ccxt=("fetch_withdrawals",)),
    # Orders do not touch the REST counter; they add to the engine's per-pair counter.
    _private("AddOrder", 0, ("create_order",), orders=1),
    # A cancel adds up to 8 (order younger than 5 s) down to 0 (older than 300 s): worst case.
    _private("CancelOrder", 0, ("cancel_order",), orders=8),
)

ROUTES = (
    Route("load_markets", "GET /0/public/AssetPairs"),
    Route("fetch_time", "GET /0/public/Time"),
    Route("fetch_ohlcv", "GET /0/public/OHLC"),
    Route("fetch_ticker", "GET /0/public/Ticker"),
    Route("fetch_tickers", "GET /0/public/Ticker"),
    Route("fetch_order_book", "GET /0/public/Depth"),
    Route("fetch_balance", "POST /0/private/BalanceEx"),
    Route("create_order", "POST /0/private/AddOrder", (("symbol", "symbol"),)),
    Route("cancel_order", "POST /0/private/CancelOrder", (("symbol", "symbol"),)),
    Route("fetch_order", "POST /0/private/QueryOrders"),
    Route("fetch_open_orders", "POST /0/private/OpenOrders"),
    Route("fetch_my_trades", "POST /0/private/TradesHistory"),
    Route("fetch_trading_fees", "POST /0/private/TradeVolume"),
    Route("fetch_status", "GET /0/public/SystemStatus"),
    Route("fetch_deposits", "POST /0/private/DepositStatus"),
    Route("fetch_withdrawals", "POST /0/private/WithdrawStatus"),
)

RATE_LIMITS = (
    RateLimit(
        "PUBLIC_1S",
        "fixed_window",
        "request",
        "ip",
        1,
        "ccxt (rateLimit 1000 ms: 'for public: 1 req/s'); Kraken publishes no number",
        interval_ms=1000,
        groups=("public",),
    ),
    RateLimit(
        "REST_COUNTER",
        "decaying_counter",
        "weight",
        "account",
        15,
        "REST",
        decay_per_s=0.33,
        groups=("private",),
        note="Starter 15 / -0.33 s; Intermediate 20 / -0.5 s; Pro 20 / -1 s (per API key)",
    ),
    RateLimit(
        "TRADING_COUNTER",
        "decaying_counter",
        "order",
        "account_pair",
        60,
        "TRADING",
        decay_per_s=1.0,
        groups=("private",),
        note="per pair; Starter 60 / -1 s; Intermediate 125 / -2.34 s; Pro 180 / -3.75 s",
    ),
)


def _tiers(rows: tuple[tuple[int, str, str], ...]) -> tuple[FeeTier, ...]:
    return tuple(
        FeeTier(f"{volume:,}+", Decimal(volume), Decimal(maker), Decimal(taker))
        for volume, maker, taker in rows
    )


FEES = FeeSchedule(
    tiers=_tiers(
        (
            (0, "0.0016", "0.0026"),
            (50_000, "0.0014", "0.0024"),
            (100_000, "0.0012", "0.0022"),
            (250_000, "0.0010", "0.0020"),
            (500_000, "0.0008", "0.0018"),
            (1_000_000, "0.0006", "0.0016"),
            (2_500_000, "0.0004", "0.0014"),
            (5_000_000, "0.0002", "0.0012"),
            (10_000_000, "0", "0.0001"),
        )
    ),
    fee_side="quote",
    source="ccxt (fees.trading.tiers); https://www.kraken.com/features/fee-schedule",
    note=(
        "ccxt 4.5.90's table, kept as it is: its 10M taker rate 0.0001 looks like a typo for "
        "0.0010, and Kraken has revised its schedule since; an account's own rates come "
        "from fetch_trading_fees (TradeVolume)."
    ),
)

STABLECOINS = (
    Stablecoin("USDT", "USD", "obs."),
    Stablecoin("USDC", "USD", "obs."),
    Stablecoin("DAI", "USD", "obs."),
)

FIAT = ("USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD", "ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY")


def _code(
    code: str, meaning: str, error: type[ExchangeError], limits: tuple[str, ...] = ()
) -> ErrorCode:
    return ErrorCode(code, code, meaning, error, "ccxt (exceptions.exact)", limits=limits)


_TRADING = ("TRADING_COUNTER",)

ERROR_CODES = (
    _code("EQuery:Invalid asset pair", "unknown pair", UnknownSymbolError),
    _code("EQuery:Unknown asset", "unknown asset", UnknownSymbolError),
    _code("EAPI:Invalid key", "bad API key", AuthenticationError),
    _code("EAPI:Invalid signature", "bad signature", AuthenticationError),
    _code("EAPI:Invalid nonce", "nonce not increasing", AuthenticationError),
    _code("EGeneral:Permission denied", "key lacks the permission", AuthenticationError),
    _code("EAPI:Rate limit exceeded", "REST counter full", RateLimitError, ("REST_COUNTER",)),
    _code("EOrder:Rate limit exceeded", "pair's trading counter full", RateLimitError, _TRADING),
    _code("EGeneral:Too many requests", "too many requests", RateLimitError),
    _code("EGeneral:Temporary lockout", "locked out for a while", RateLimitError),
    _code("EService:Unavailable", "service unavailable", ExchangeUnavailableError),
    _code("EService:Busy", "service busy", ExchangeUnavailableError),
    _code("EGeneral:Internal error", "internal error", ExchangeUnavailableError),
    _code("EOrder:Insufficient funds", "insufficient funds", InsufficientFundsError),
    _code("EOrder:Order minimum not met", "below the pair's minimum", OrderRejectedError),
    _code("EGeneral:Invalid arguments", "invalid arguments", OrderRejectedError),
    _code("EOrder:Unknown order", "unknown order", OrderNotFoundError),
)

KRAKEN = ExchangeFacts(
    id="kraken",
    name="Kraken",
    urls=Urls(
        rest=MappingProxyType(
            {"public": "https://api.kraken.com", "private": "https://api.kraken.com"}
        ),
        ws="wss://ws.kraken.com/v2",
        ws_api="wss://ws-auth.kraken.com/v2",
        docs="https://docs.kraken.com/api/",
        source="ccxt, ccxt.pro",
    ),
    endpoints=ENDPOINTS,
    routes=ROUTES,
    rate_limits=RATE_LIMITS,
    order_types=(
        "market",
        "limit",
        "stop-loss",
        "take-profit",
        "stop-loss-limit",
        "take-profit-limit",
        "trailing-stop",
        "trailing-stop-limit",
        "settle-position",
    ),
    time_in_force=("GTC", "IOC", "GTD"),
    timeframes=("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "2w"),
    fees=FEES,
    stablecoins=STABLECOINS,
    fiat=FIAT,
    error_codes=ERROR_CODES,
    error_code_pattern=r"(E[A-Z][A-Za-z]*:[A-Za-z][A-Za-z ]*[a-z])",
    retry_after_header=None,
    sources=SOURCES,
    notes=(
        "Private REST calls share a decaying counter per API key; orders and cancels a "
        "decaying counter per pair (cancelling a young order costs most).",
        "Errors come as {'error': ['EOrder:Insufficient funds']} with HTTP 200.",
        "Kraken looks orders up by userref (an integer) or cl_ord_id, not by a free string.",
    ),
)
