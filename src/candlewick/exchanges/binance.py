"""Binance spot: the facts the exchange layer and the emulator rely on.

Sources (the ``source`` field of each fact uses these tags; ``obs.`` marks values seen in
public captures or client code rather than stated in the docs). The project's research notes
``../shared/reference/binance-spot-rules.md`` and ``ccxt-binance-spot-protocol.md`` quote each
one with its date.
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
    WeightBand,
    WeightRule,
)

SOURCES = MappingProxyType(
    {
        "R": "binance-spot-api-docs rest-api.md (snapshot a5e0bc3, 2026-07-21)",
        "W": "binance-spot-api-docs web-socket-api.md (a5e0bc3)",
        "S": "binance-spot-api-docs web-socket-streams.md (a5e0bc3)",
        "E": "binance-spot-api-docs errors.md (a5e0bc3)",
        "N": "binance-spot-api-docs enums.md (a5e0bc3)",
        "C": "binance-spot-api-docs CHANGELOG.md (entry date given)",
        "FAQ": "binance-spot-api-docs faqs/order_count_decrement.md",
        "ccxt": "ccxt 4.5.90 ccxt/binance.py (describe(): urls, api costs x5 = weight, fees)",
        "ccxt.pro": "ccxt 4.5.90 ccxt/pro/binance.py (ws urls)",
        "fees": "https://www.binance.com/en/fee/schedule (Regular user) and ccxt fees.trading",
        "obs.": "public exchangeInfo captures / client logs, not stated in the docs",
        "listing": "Binance spot listing announcements (binance.com/en/support/announcement)",
        "issuer": "the issuer's stated peg; the Binance spot listing was not verified offline",
    }
)

_V3 = "/api/v3"
_SIG = "USER_DATA"


def _get(
    path: str,
    weight: int,
    source: str = "R",
    *,
    rules: tuple[WeightRule, ...] = (),
    security: str = "NONE",
    ccxt: tuple[str, ...] = (),
    max_limit: int | None = None,
    note: str = "",
) -> Endpoint:
    return Endpoint(
        "GET",
        _V3 + path,
        weight,
        source,
        rules=rules,
        security=security,
        ccxt=ccxt,
        max_limit=max_limit,
        note=note,
    )


def _band(*pairs: tuple[int | None, int]) -> tuple[WeightBand, ...]:
    return tuple(WeightBand(up_to, weight) for up_to, weight in pairs)


_SYMBOL_2 = WeightRule("symbol", "present", _band((None, 2)))

ENDPOINTS = (
    _get("/ping", 1, ccxt=()),
    _get("/time", 1, ccxt=("fetch_time",)),
    _get("/exchangeInfo", 20, "R; C 2023-08-25 (10->20)", ccxt=("load_markets", "fetch_markets")),
    _get(
        "/depth",
        5,
        "R; C 2023-10-19",
        rules=(WeightRule("limit", "value", _band((100, 5), (500, 25), (1000, 50), (None, 250))),),
        ccxt=("fetch_order_book",),
        max_limit=5000,
        note="limit default 100, max 5000 (larger is truncated)",
    ),
    _get("/trades", 25, "R; C 2024-04-04 (ccxt 10)", max_limit=1000),
    _get("/historicalTrades", 25, "R; C 2024-04-04 (ccxt still 10)"),
    # ccxt's fetch_trades calls aggTrades on spot (its fetchTradesMethod default)
    _get("/aggTrades", 4, "R; C 2025-03-10 (ccxt still 2)", ccxt=("fetch_trades",),
         max_limit=1000),
    _get("/klines", 2, "R; C 2023-08-25", ccxt=("fetch_ohlcv",), max_limit=1000),
    _get("/uiKlines", 2, "R; C 2023-08-25"),
    _get("/avgPrice", 2),
    _get(
        "/ticker/24hr",
        80,
        "R; C 2023-08-25",
        rules=(_SYMBOL_2, WeightRule("symbols", "count", _band((20, 2), (100, 40), (None, 80)))),
        ccxt=("fetch_ticker", "fetch_tickers"),
        note="no symbol(s): all symbols, weight 80",
    ),
    _get(
        "/ticker/price",
        4,
        rules=(_SYMBOL_2,),
        ccxt=("fetch_last_prices",),
        note="symbols (any number) or none: 4",
    ),
    _get(
        "/ticker/bookTicker",
        4,
        rules=(_SYMBOL_2,),
        ccxt=("fetch_bids_asks",),
        note="symbols (any number) or none: 4",
    ),
    Endpoint(
        "POST",
        _V3 + "/order",
        1,
        "R; C 2026-03-27 (0 when successful)",
        orders=1,
        security="TRADE",
        ccxt=("create_order",),
        note="charged weight 0 when the order is accepted (since 2026-04-02); counted 1 here",
    ),
    Endpoint(
        "POST",
        _V3 + "/order/test",
        1,
        "R",
        rules=(WeightRule("computeCommissionRates", "present", _band((None, 20))),),
        security="TRADE",
    ),
    _get("/order", 4, "R; C 2023-08-25", security=_SIG, ccxt=("fetch_order",)),
    Endpoint(
        "DELETE",
        _V3 + "/order",
        1,
        "R; C 2026-03-27 (0 when successful)",
        security="TRADE",
        ccxt=("cancel_order",),
    ),
    Endpoint(
        "DELETE",
        _V3 + "/openOrders",
        1,
        "R; C 2026-03-27 (0 when successful)",
        security="TRADE",
        ccxt=("cancel_all_orders",),
    ),
    Endpoint(
        "POST",
        _V3 + "/order/cancelReplace",
        1,
        "R; C 2026-03-27 (0 when successful)",
        orders=1,
        security="TRADE",
        ccxt=("edit_order",),
    ),
    _get(
        "/openOrders",
        80,
        "R; C 2023-08-25",
        rules=(WeightRule("symbol", "present", _band((None, 6))),),
        security=_SIG,
        ccxt=("fetch_open_orders",),
        note="6 with symbol, 80 without",
    ),
    _get("/allOrders", 20, "R", security=_SIG, ccxt=("fetch_orders",), max_limit=1000),
    _get("/account", 20, "R; C 2023-08-25", security=_SIG, ccxt=("fetch_balance",)),
    _get(
        "/myTrades",
        20,
        "R; C 2025-04-07 (orderId: 5)",
        rules=(WeightRule("orderId", "present", _band((None, 5))),),
        security=_SIG,
        ccxt=("fetch_my_trades", "fetch_order_trades"),
        max_limit=1000,
    ),
    _get("/rateLimit/order", 40, security=_SIG),
    _get("/account/commission", 20, "R", security=_SIG),
    # The /sapi wallet endpoints ccxt uses; their IP weight counts against a separate limit.
    Endpoint(
        "GET",
        "/sapi/v1/system/status",
        1,
        "ccxt (cost 0.1 of the sapi scale)",
        group="sapi",
        ccxt=("fetch_status",),
    ),
    Endpoint(
        "GET",
        "/sapi/v1/asset/tradeFee",
        1,
        "ccxt (cost 0.1 of the sapi scale)",
        group="sapi",
        security=_SIG,
        ccxt=("fetch_trading_fees",),
    ),
    Endpoint(
        "GET",
        "/sapi/v1/capital/deposit/hisrec",
        1,
        "ccxt (cost 0.1 of the sapi scale)",
        group="sapi",
        security=_SIG,
        ccxt=("fetch_deposits",),
    ),
    Endpoint(
        "GET",
        "/sapi/v1/capital/withdraw/history",
        1,
        "ccxt (cost 2: UID weight 18000 and 10 requests/s)",
        group="sapi",
        security=_SIG,
        ccxt=("fetch_withdrawals",),
        note="also UID weight 18000 of 180000/min; at most 10 requests per second",
    ),
)

ROUTES = (
    Route("load_markets", "GET /api/v3/exchangeInfo"),
    Route("fetch_time", "GET /api/v3/time"),
    Route("fetch_ohlcv", "GET /api/v3/klines", (("limit", "limit"),)),
    Route("fetch_ticker", "GET /api/v3/ticker/24hr", (("symbol", "symbol"),)),
    Route("fetch_tickers", "GET /api/v3/ticker/24hr", (("symbols", "symbols"),)),
    Route("fetch_order_book", "GET /api/v3/depth", (("limit", "limit"),)),
    Route("fetch_balance", "GET /api/v3/account"),
    Route("create_order", "POST /api/v3/order", (("symbol", "symbol"),)),
    Route("cancel_order", "DELETE /api/v3/order", (("symbol", "symbol"),)),
    Route("fetch_order", "GET /api/v3/order", (("symbol", "symbol"),)),
    Route("fetch_open_orders", "GET /api/v3/openOrders", (("symbol", "symbol"),)),
    Route("fetch_my_trades", "GET /api/v3/myTrades", (("symbol", "symbol"),)),
    Route("fetch_trading_fees", "GET /sapi/v1/asset/tradeFee"),
    Route("fetch_status", "GET /sapi/v1/system/status"),
    Route("fetch_deposits", "GET /sapi/v1/capital/deposit/hisrec"),
    Route("fetch_withdrawals", "GET /sapi/v1/capital/withdraw/history"),
)

_MINUTE = 60_000

RATE_LIMITS = (
    RateLimit(
        "REQUEST_WEIGHT_1M",
        "fixed_window",
        "weight",
        "ip",
        6000,
        "N, W; C 2023-08-25 (1200 -> 6000)",
        interval_ms=_MINUTE,
        header="x-mbx-used-weight-1m",
        note="per IP, all keys and accounts; WS-API weight shares it",
    ),
    RateLimit(
        "ORDERS_10S",
        "fixed_window",
        "order",
        "account",
        100,
        "obs. exchangeInfo 2025-06-21; FAQ example 100 (docs example 50)",
        interval_ms=10_000,
        header="x-mbx-order-count-10s",
        note="unfilled-order count, per account (all keys, IPs and APIs)",
    ),
    RateLimit(
        "ORDERS_1D",
        "fixed_window",
        "order",
        "account",
        200_000,
        "obs. exchangeInfo 2025-06-21 (docs example 160000)",
        interval_ms=86_400_000,
        header="x-mbx-order-count-1d",
        note="resets 00:00 UTC",
    ),
    RateLimit(
        "RAW_REQUESTS_5M",
        "fixed_window",
        "request",
        "ip",
        300_000,
        "C 2026-03-27 (61000 before 2026-04-02)",
        interval_ms=5 * _MINUTE,
        note="REST only; every request counts 1 whatever its weight",
    ),
    RateLimit(
        "SAPI_IP_WEIGHT_1M",
        "fixed_window",
        "weight",
        "ip",
        12_000,
        "ccxt (sapi: IP request rate limit of 12 000 per minute)",
        interval_ms=_MINUTE,
        groups=("sapi",),
        header="x-sapi-used-ip-weight-1m",
    ),
)

TIMEFRAMES = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)

ORDER_TYPES = (
    "LIMIT",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
    "LIMIT_MAKER",
)

FEES = FeeSchedule(
    tiers=(FeeTier("Regular", Decimal(0), Decimal("0.001"), Decimal("0.001")),),
    fee_side="get",
    source="fees",
    note=(
        "VIP tiers depend on 30-day volume and BNB holdings and change over time: an account's "
        "own rates come from fetch_trading_fees. Paying fees in BNB gives 25 % off."
    ),
)

_STABLE_SRC = "obs. quote asset in Binance exchangeInfo capture 2021-10-12 (shared fixtures)"
_LATER_SRC = "issuer"

STABLECOINS = (
    Stablecoin("USDT", "USD", _STABLE_SRC),
    Stablecoin("USDC", "USD", _STABLE_SRC),
    Stablecoin("BUSD", "USD", _STABLE_SRC + "; delisted 2023-2024"),
    Stablecoin("TUSD", "USD", _STABLE_SRC),
    Stablecoin("USDP", "USD", _STABLE_SRC),
    Stablecoin("PAX", "USD", _STABLE_SRC + " (USDP's former ticker)"),
    Stablecoin("DAI", "USD", _STABLE_SRC),
    Stablecoin("USDS", "USD", _STABLE_SRC + " (Stably USD)"),
    Stablecoin("FDUSD", "USD", "listing 2023-07"),
    Stablecoin("AEUR", "EUR", "listing 2023-12"),
    Stablecoin("EURI", "EUR", "listing 2024-08"),
    Stablecoin("USDE", "USD", _LATER_SRC),
    Stablecoin("USD1", "USD", _LATER_SRC),
    Stablecoin("XUSD", "USD", _LATER_SRC),
    Stablecoin("RLUSD", "USD", _LATER_SRC),
    Stablecoin("PYUSD", "USD", _LATER_SRC),
    Stablecoin("BIDR", "IDR", _STABLE_SRC),
    Stablecoin("IDRT", "IDR", _STABLE_SRC),
    Stablecoin("BVND", "VND", _STABLE_SRC),
)

FIAT = ("EUR", "TRY", "BRL", "ARS", "JPY", "MXN", "PLN", "RON", "UAH", "ZAR", "COP", "CZK", "GBP")

_INSUFFICIENT = "Account has insufficient balance for requested action."


def _code(
    code: int,
    name: str,
    meaning: str,
    error: type[ExchangeError],
    contains: str | None = None,
    limits: tuple[str, ...] = (),
) -> ErrorCode:
    return ErrorCode(str(code), name, meaning, error, "E", contains, limits)


# Short names keep the table one entry per line.
_UNAVAILABLE, _AUTH, _REJECTED = ExchangeUnavailableError, AuthenticationError, OrderRejectedError
_NOT_FOUND, _FUNDS, _LIMIT = OrderNotFoundError, InsufficientFundsError, RateLimitError
_IP_LIMITS, _ORDERS_10S = ("REQUEST_WEIGHT_1M",), ("ORDERS_10S",)

ERROR_CODES = (
    _code(-1000, "UNKNOWN", "unknown error; execution status unknown", _UNAVAILABLE),
    _code(-1001, "DISCONNECTED", "internal error; unable to process, try again", _UNAVAILABLE),
    _code(-1002, "UNAUTHORIZED", "not authorized to execute this request", _AUTH),
    _code(-1003, "TOO_MANY_REQUESTS", "weight exceeded or IP banned", _LIMIT, limits=_IP_LIMITS),
    _code(-1006, "UNEXPECTED_RESP", "unexpected response; execution status unknown", _UNAVAILABLE),
    _code(-1007, "TIMEOUT", "backend timeout; execution status unknown", _UNAVAILABLE),
    _code(-1008, "SERVER_BUSY", "server overloaded, try again", _UNAVAILABLE),
    _code(
        -1013, "INVALID_MESSAGE", "a filter failed (PRICE_FILTER, LOT_SIZE, NOTIONAL)", _REJECTED
    ),
    _code(-1014, "UNKNOWN_ORDER_COMPOSITION", "unsupported order combination", _REJECTED),
    _code(
        -1015, "TOO_MANY_ORDERS", "daily order count exceeded", _LIMIT, "per DAY", ("ORDERS_1D",)
    ),
    _code(-1015, "TOO_MANY_ORDERS", "10-second order count exceeded", _LIMIT, limits=_ORDERS_10S),
    _code(-1021, "INVALID_TIMESTAMP", "timestamp outside recvWindow or ahead of server", _AUTH),
    _code(-1022, "INVALID_SIGNATURE", "signature not valid", _AUTH),
    _code(-1100, "ILLEGAL_CHARS", "illegal characters in a parameter", _REJECTED),
    _code(-1101, "TOO_MANY_PARAMETERS", "too many or duplicate parameters", _REJECTED),
    _code(
        -1102, "MANDATORY_PARAM_EMPTY_OR_MALFORMED", "a mandatory parameter is missing", _REJECTED
    ),
    _code(-1103, "UNKNOWN_PARAM", "an unknown parameter was sent", _REJECTED),
    _code(-1111, "BAD_PRECISION", "a parameter has too much precision", _REJECTED),
    _code(-1112, "NO_DEPTH", "no orders on book for symbol", _REJECTED),
    _code(-1115, "INVALID_TIF", "invalid timeInForce", _REJECTED),
    _code(-1116, "INVALID_ORDER_TYPE", "invalid order type", _REJECTED),
    _code(-1117, "INVALID_SIDE", "invalid side", _REJECTED),
    _code(-1120, "BAD_INTERVAL", "invalid kline interval", ExchangeError),
    _code(-1121, "BAD_SYMBOL", "invalid symbol", UnknownSymbolError),
    _code(-1125, "INVALID_LISTEN_KEY", "listenKey does not exist", _AUTH),
    _code(-1127, "MORE_THAN_XX_HOURS", "startTime to endTime span too long", ExchangeError),
    _code(
        -1128, "OPTIONAL_PARAMS_BAD_COMBO", "bad combination of optional parameters", ExchangeError
    ),
    _code(-1130, "INVALID_PARAMETER", "data sent for a parameter is not valid", ExchangeError),
    _code(-2010, "NEW_ORDER_REJECTED", "insufficient balance", _FUNDS, _INSUFFICIENT),
    _code(-2010, "NEW_ORDER_REJECTED", "matching engine refused the order", _REJECTED),
    _code(
        -2011, "CANCEL_REJECTED", "unknown or closed order on cancel", _NOT_FOUND, "Unknown order"
    ),
    _code(-2011, "CANCEL_REJECTED", "cancel refused (cancel restrictions)", _REJECTED),
    _code(-2013, "NO_SUCH_ORDER", "order does not exist", _NOT_FOUND),
    _code(-2014, "BAD_API_KEY_FMT", "API-key format invalid", _AUTH),
    _code(-2015, "REJECTED_MBX_KEY", "invalid API-key, IP, or permissions", _AUTH),
    _code(-2026, "ORDER_ARCHIVED", "order archived (too old to query)", _NOT_FOUND),
)

BINANCE = ExchangeFacts(
    id="binance",
    name="Binance",
    urls=Urls(
        rest=MappingProxyType(
            {
                "public": "https://api.binance.com/api/v3",
                "private": "https://api.binance.com/api/v3",
                "sapi": "https://api.binance.com/sapi/v1",
            }
        ),
        ws="wss://stream.binance.com:9443/ws",
        ws_api="wss://ws-api.binance.com:443/ws-api/v3",
        docs="https://developers.binance.com/docs/binance-spot-api-docs",
        source="ccxt, ccxt.pro",
    ),
    endpoints=ENDPOINTS,
    routes=ROUTES,
    rate_limits=RATE_LIMITS,
    order_types=ORDER_TYPES,
    time_in_force=("GTC", "IOC", "FOK"),
    timeframes=TIMEFRAMES,
    fees=FEES,
    stablecoins=STABLECOINS,
    fiat=FIAT,
    error_codes=ERROR_CODES,
    error_code_pattern=r'"code"\s*:\s*(-?\d+)',
    retry_after_header="retry-after",
    sources=SOURCES,
    notes=(
        "Weight is per IP, order counts per account; windows are fixed (minute, 10 s, UTC day).",
        "HTTP 429 carries Retry-After (seconds); continuing gives 418 bans of 2 min to 3 days.",
        "HTTP 5XX (and -1000/-1006/-1007) means the execution status is unknown.",
        "ccxt raises DDoSProtection on 429/418 and does not honour Retry-After.",
    ),
)
