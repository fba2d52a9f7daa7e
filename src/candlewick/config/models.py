"""Configuration models: TRADING_CONFIG (what a bot trades and how) and USER (who, which accounts).

Pydantic v2 models, strict about unknown keys. Secrets never live in these files: an account
names the *environment variables* holding its API key and secret (set them in the shell or in
a git-ignored ``.env``; ``.env.example`` documents them).
"""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from candlewick.core.timeframes import SUPPORTED_TIMEFRAMES, timeframe_ms

ExecutionMode = Literal["backtest", "paper", "live", "forwardtest", "signaltest", "train"]
ParamValue = float | int | str | bool | list[float] | list[int] | list[str] | None
_PAIR = re.compile(r"^[A-Z0-9]{2,15}/[A-Z0-9]{2,10}$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")  # it names report files
_EXCHANGE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")  # it names a folder of the candle store

# Bounds of the lists of a trading config: far above any real strategy, low enough that the
# pipeline's memory (setups x bars, indicators x bars, pairs x bars) stays bounded.
MAX_PAIRS = 100
MAX_INDICATORS = 64
MAX_SETUPS = 32
MAX_FILTERS = 32
MAX_PLUGINS = 16
MAX_PARAMS = 32
MAX_ACCOUNTS = 32
#: Bars of a time stop or a cooldown: about two years of 1m bars.
MAX_BARS = 1_000_000
#: Largest account and quote amount: a trillion quote units.
MAX_CASH = Decimal(10**12)


#: Largest magnitude of a number in params (owners check their own, tighter bounds).
MAX_PARAM_NUMBER = 10**15


def _params_in_range(params: dict[str, ParamValue]) -> dict[str, ParamValue]:
    for key, value in params.items():
        numbers = value if isinstance(value, list) else [value]
        for number in numbers:
            if isinstance(number, int | float) and abs(number) > MAX_PARAM_NUMBER:
                raise ValueError(
                    f"{key}: {number!r} is out of range; numbers in params lie within +-1e15"
                )
    return params


#: The params of a setup, filter, indicator or sizing rule (checked by their owner).
Params = Annotated[
    dict[str, ParamValue], Field(max_length=MAX_PARAMS), AfterValidator(_params_in_range)
]


class _Model(BaseModel):
    """Unknown keys, NaN and infinities refused; true/false only where a bool is expected."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads true as 1: refuse it wherever a bool is not expected.
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if bool not in (annotation, *get_args(annotation)):
                raise ValueError("a number is expected here, not true/false")
        return value


def _check_timeframe(value: str) -> str:
    timeframe_ms(value)  # raises ValueError with the accepted spellings
    if value not in SUPPORTED_TIMEFRAMES:
        raise ValueError(
            f"timeframe {value!r} is not supported: use one of {', '.join(SUPPORTED_TIMEFRAMES)}"
        )
    return value


def _check_exchange(cls: type[BaseModel], value: str) -> str:
    if not _EXCHANGE.match(value.lower()):
        raise ValueError("use the exchange's ccxt id: lower-case letters and digits (binance)")
    return value.lower()


class IndicatorConfig(_Model):
    """One indicator column: ``id`` names the column setups and filters refer to."""

    id: str = Field(
        max_length=64, description="column name, lower_snake_case, unique (e.g. sma_fast)"
    )
    name: str = Field(
        max_length=64, description="registered indicator (sma, ema, rsi, macd, atr, ...)"
    )
    params: Params = Field(
        default_factory=dict, description="the indicator's parameters, each within its bounds"
    )
    timeframe: str | None = Field(
        default=None, description="an informative timeframe; default: the base timeframe"
    )
    source: Literal["open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4"] | None = (
        Field(default=None, description="input series of a single-input indicator (default close)")
    )

    @field_validator("id")
    @classmethod
    def _id_is_identifier(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError("use lower_snake_case letters, digits and _ (e.g. sma_fast)")
        return value

    @field_validator("timeframe")
    @classmethod
    def _tf(cls, value: str | None) -> str | None:
        return None if value is None else _check_timeframe(value)


class SetupConfig(_Model):
    """A registered setup and its parameters; ``weight`` counts in a weighted vote."""

    name: str = Field(max_length=64)
    params: Params = Field(default_factory=dict)
    weight: float = Field(default=1.0, gt=0, le=1000, description="in (0, 1000]")


class FilterConfig(_Model):
    """A registered filter that keeps or rejects entry signals."""

    name: str = Field(max_length=64)
    params: Params = Field(default_factory=dict)


class RiskConfig(_Model):
    """Exits attached to every position and limits on the whole portfolio.

    Percentages are fractions: 0.02 means 2 %.
    """

    stop_loss_pct: float | None = Field(
        default=None, gt=0, lt=1, description="stop below the entry, a fraction in (0, 1)"
    )
    stop_loss_atr: float | None = Field(
        default=None, gt=0, le=100, description="stop distance in ATRs, in (0, 100]"
    )
    take_profit_pct: float | None = Field(
        default=None, gt=0, le=10, description="take-profit above the entry, in (0, 10] (1000 %)"
    )
    take_profit_atr: float | None = Field(
        default=None, gt=0, le=100, description="take-profit distance in ATRs, in (0, 100]"
    )
    take_profit_rr: float | None = Field(
        default=None, gt=0, le=100, description="take-profit in multiples of the stop, (0, 100]"
    )
    trailing_stop_pct: float | None = Field(
        default=None, gt=0, lt=1, description="trailing distance, a fraction in (0, 1)"
    )
    time_stop_bars: int | None = Field(
        default=None, ge=1, le=MAX_BARS, description=f"close after N bars, 1 to {MAX_BARS:,}"
    )
    atr_indicator: str | None = Field(
        default=None, description="id of an 'atr' indicator used by the *_atr rules"
    )
    max_open_positions: int | None = Field(
        default=None, ge=1, le=MAX_PAIRS, description=f"1 to {MAX_PAIRS} (one per pair at most)"
    )
    max_pair_exposure: float | None = Field(
        default=None, gt=0, le=1, description="share of equity in one pair, in (0, 1]"
    )
    max_total_exposure: float | None = Field(
        default=None, gt=0, le=1, description="share of equity in positions, in (0, 1]"
    )
    daily_loss_limit: float | None = Field(
        default=None, gt=0, lt=1, description="halt for the UTC day after this loss, in (0, 1)"
    )
    max_drawdown: float | None = Field(
        default=None, gt=0, lt=1, description="halt for good past this drawdown, in (0, 1)"
    )
    cooldown_bars: int = Field(
        default=0,
        ge=0,
        le=MAX_BARS,
        description=f"bars between trades of a pair, 0 to {MAX_BARS:,}",
    )

    @model_validator(mode="after")
    def _atr_rules_need_atr(self) -> RiskConfig:
        if (self.stop_loss_atr or self.take_profit_atr) and not self.atr_indicator:
            raise ValueError(
                "stop_loss_atr/take_profit_atr need risk.atr_indicator: the id of an indicator "
                "with name 'atr' declared under indicators"
            )
        return self


class SizingConfig(_Model):
    """How much an entry spends: all_in, fixed_quote, equity_fraction, risk_percent, kelly.

    Bounds (checked by the rule, see candlewick.risk.sizing): fixed_quote amount in
    (0, 1e12]; equity_fraction fraction in (0, 1]; risk_percent risk in (0, 0.1];
    kelly cap, multiplier and fallback in (0, 1], min_trades 1 to 10,000, win_rate in [0, 1],
    payoff in (0, 1000].
    """

    method: str = Field(default="all_in", max_length=64)
    params: Params = Field(default_factory=dict)


class FeesConfig(_Model):
    """Fee rates as fractions (Binance spot default tier: 0.1 % both sides)."""

    taker: Decimal = Field(
        default=Decimal("0.001"), ge=0, le=Decimal("0.05"), description="[0, 0.05]"
    )
    maker: Decimal = Field(
        default=Decimal("0.001"), ge=0, le=Decimal("0.05"), description="[0, 0.05]"
    )


class SlippageConfig(_Model):
    """Fixed slippage in basis points plus optional square-root market impact."""

    bps: Decimal = Field(default=Decimal(0), ge=0, le=1000, description="[0, 1000] (10 %)")
    impact: float = Field(
        default=0.0, ge=0, le=10, description="k in k*sqrt(qty/bar volume), in [0, 10]"
    )
    max_bps: Decimal = Field(default=Decimal(500), gt=0, le=10_000, description="(0, 10000]")


class MarketConfig(_Model):
    """A market's trading rules (tick, step, min notional), as in Binance's exchangeInfo."""

    price_tick: Decimal | None = Field(default=None, gt=0, le=MAX_CASH)
    amount_step: Decimal | None = Field(default=None, gt=0, le=MAX_CASH)
    min_notional: Decimal = Field(default=Decimal(0), ge=0, le=MAX_CASH)


#: Backtest days must lie between Bitcoin's first block and the end of this century.
FIRST_DAY = date(2009, 1, 3)
LAST_DAY = date(2100, 1, 1)


class BacktestConfig(_Model):
    """The account and period of a backtest: from ``start`` (included) to ``end`` (excluded),
    UTC days."""

    initial_cash: Decimal = Field(
        default=Decimal(10_000), gt=0, le=MAX_CASH, description="quote units, (0, 1e12]"
    )
    start: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)
    end: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)

    @model_validator(mode="after")
    def _ordered(self) -> BacktestConfig:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(
                f"backtest.start ({self.start}) must be before backtest.end ({self.end})"
            )
        return self


class TradingConfig(_Model):
    """What one bot trades and how; ``execution_mode`` picks live, paper, backtest ..."""

    name: str = Field(
        pattern=_NAME.pattern, description="letters, digits, space, _ . - (at most 64)"
    )
    execution_mode: ExecutionMode = "backtest"
    exchange: str = Field(default="binance", description="a ccxt exchange id, e.g. binance")
    pairs: list[str] = Field(
        min_length=1,
        max_length=MAX_PAIRS,
        description=f"BASE/QUOTE, e.g. BTC/USDC; 1 to {MAX_PAIRS}",
    )
    timeframe: str = Field(default="5m", description="base timeframe decisions are taken on")
    informative_timeframes: list[str] = Field(
        default_factory=list, max_length=len(SUPPORTED_TIMEFRAMES), description="distinct"
    )
    indicators: list[IndicatorConfig] = Field(
        default_factory=list, max_length=MAX_INDICATORS, description=f"at most {MAX_INDICATORS}"
    )
    setups: list[SetupConfig] = Field(
        min_length=1, max_length=MAX_SETUPS, description=f"1 to {MAX_SETUPS}"
    )
    combine: Literal["any", "all", "vote"] = Field(
        default="any", description="how setups' entries combine: any, all or weighted vote"
    )
    exit_combine: Literal["any", "all", "vote"] = Field(
        default="any", description="how setups' exits combine (default: any setup's exit)"
    )
    vote_threshold: float = Field(default=0.5, gt=0, le=1, description="in (0, 1]")
    filters: list[FilterConfig] = Field(
        default_factory=list, max_length=MAX_FILTERS, description=f"at most {MAX_FILTERS}"
    )
    risk: RiskConfig = Field(default_factory=RiskConfig)
    sizing: SizingConfig = Field(default_factory=SizingConfig)
    fees: FeesConfig = Field(default_factory=FeesConfig)
    slippage: SlippageConfig = Field(default_factory=SlippageConfig)
    markets: dict[str, MarketConfig] = Field(default_factory=dict)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    plugins: list[str] = Field(
        default_factory=list,
        max_length=MAX_PLUGINS,
        description="Python files registering your own setups/filters",
    )

    _exchange = field_validator("exchange")(_check_exchange)

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: list[str]) -> list[str]:
        for pair in value:
            if not _PAIR.match(pair):
                raise ValueError(f"{pair!r} is not BASE/QUOTE in capitals, e.g. BTC/USDC")
        if len(set(value)) != len(value):
            raise ValueError("a pair is listed twice")
        return value

    @field_validator("timeframe")
    @classmethod
    def _base_tf(cls, value: str) -> str:
        return _check_timeframe(value)

    @field_validator("informative_timeframes")
    @classmethod
    def _info_tfs(cls, value: list[str]) -> list[str]:
        for tf in value:
            if value.count(tf) > 1:
                raise ValueError(f"{tf} is listed twice")
        return [_check_timeframe(tf) for tf in value]

    @model_validator(mode="after")
    def _cross_checks(self) -> TradingConfig:
        base = timeframe_ms(self.timeframe)
        for tf in self.informative_timeframes:
            if timeframe_ms(tf) <= base or timeframe_ms(tf) % base:
                raise ValueError(
                    f"informative timeframe {tf} must be a whole multiple of the base "
                    f"timeframe {self.timeframe} and longer than it"
                )
        ids = [ind.id for ind in self.indicators]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"indicator ids must be unique; repeated: {', '.join(duplicates)}")
        for ind in self.indicators:
            if ind.timeframe not in (None, self.timeframe, *self.informative_timeframes):
                raise ValueError(
                    f"indicator {ind.id!r} uses timeframe {ind.timeframe}: add it to "
                    "informative_timeframes"
                )
        if self.risk.atr_indicator is not None and self.risk.atr_indicator not in ids:
            raise ValueError(
                f"risk.atr_indicator {self.risk.atr_indicator!r} is not an indicator id; declare "
                "it under indicators (name: atr)"
            )
        quotes = sorted({pair.split("/")[1] for pair in self.pairs})
        if len(quotes) > 1:
            raise ValueError(
                f"pairs: all pairs share one cash account, so they need one quote currency; "
                f"found {', '.join(quotes)}. Run one config per quote currency"
            )
        unknown = sorted(set(self.markets) - set(self.pairs))
        if unknown:
            raise ValueError(f"markets lists pairs not in pairs: {', '.join(unknown)}")
        return self

    @property
    def quote(self) -> str:
        """The quote currency of the first pair (the account's cash)."""
        return self.pairs[0].split("/")[1]


class AccountConfig(_Model):
    """An exchange account; its secrets come from the named environment variables."""

    exchange: str = Field(description="a ccxt exchange id, e.g. binance")
    api_key_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)
    api_secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)
    testnet: bool = False

    _exchange = field_validator("exchange")(_check_exchange)

    def credentials(self) -> tuple[str, str]:
        """The API key and secret, read from the environment (or .env) at call time."""
        from candlewick.errors import ConfigError

        missing = [v for v in (self.api_key_env, self.api_secret_env) if not os.environ.get(v)]
        if missing:
            raise ConfigError(
                f"environment variable(s) {', '.join(missing)} not set: export them or put them "
                "in .env (see .env.example)"
            )
        return os.environ[self.api_key_env], os.environ[self.api_secret_env]


class UserConfig(_Model):
    """A user of the server and their exchange accounts."""

    name: str = Field(min_length=1, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    accounts: dict[str, AccountConfig] = Field(
        default_factory=dict, max_length=MAX_ACCOUNTS, description=f"at most {MAX_ACCOUNTS}"
    )
