"""The emulator's configuration file (``emulator.yaml``): pydantic models and the loader.

Every field has a default except the pairs: a pair names the market it is served as, the stored
series it replays and its symbol rules (tick size, step size, minimum quantity and notional),
which become the PRICE_FILTER, LOT_SIZE and NOTIONAL filters of ``exchangeInfo``. See
``examples/emulator/emulator.yaml`` and ``docs/emulator.md``.

The API keys of the emulator's accounts are credentials of the emulator only (they open nothing
real), so they may be written in the file; ``api_key_env``/``api_secret_env`` read them from
the environment instead.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from candlewick.errors import ConfigError

_MARKET = re.compile(r"^([A-Z0-9]+)/([A-Z0-9]+)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PairConfig(_Model):
    """One market served by the emulator and the stored 1m candles it replays."""

    market: str = Field(description="BASE/QUOTE as served, e.g. BTC/USDT (symbol BTCUSDT)")
    source: str | None = Field(
        default=None, description="store key exchange:PAIR; default <exchange>:<market>"
    )
    tick_size: Decimal = Field(gt=0)
    step_size: Decimal = Field(gt=0)
    min_qty: Decimal | None = Field(default=None, gt=0)
    max_qty: Decimal = Field(default=Decimal("9000000"), gt=0)
    min_price: Decimal | None = Field(default=None, gt=0)
    max_price: Decimal = Field(default=Decimal("1000000"), gt=0)
    min_notional: Decimal = Field(default=Decimal("5"), ge=0)
    max_notional: Decimal = Field(default=Decimal("9000000"), gt=0)
    market_min_qty: Decimal = Field(default=Decimal(0), ge=0, description="0: no minimum")
    market_max_qty: Decimal | None = Field(default=None, gt=0, description="default max_qty")
    market_step_size: Decimal = Field(default=Decimal(0), ge=0, description="0: any step")
    bid_multiplier_up: Decimal = Field(default=Decimal(5), gt=0)
    bid_multiplier_down: Decimal = Field(default=Decimal("0.2"), gt=0)
    ask_multiplier_up: Decimal = Field(default=Decimal(5), gt=0)
    ask_multiplier_down: Decimal = Field(default=Decimal("0.2"), gt=0)
    max_num_orders: int = Field(default=200, ge=1, le=100_000)
    max_num_algo_orders: int = Field(default=5, ge=1, le=100_000)

    @field_validator("market")
    @classmethod
    def _market(cls, value: str) -> str:
        text = value.upper()
        if _MARKET.match(text) is None:
            raise ValueError("write the market as BASE/QUOTE, e.g. BTC/USDT")
        return text

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or "/" not in value):
            raise ValueError("write the source as exchange:BASE/QUOTE, e.g. binance:BTC/USDT")
        return value

    @property
    def symbol(self) -> str:
        """Binance's symbol: ``BTCUSDT``."""
        return self.market.replace("/", "")

    @property
    def base(self) -> str:
        """The base asset."""
        return self.market.split("/")[0]

    @property
    def quote(self) -> str:
        """The quote asset."""
        return self.market.split("/")[1]

    def store_key(self, default_exchange: str) -> tuple[str, str]:
        """``(exchange, pair)`` of the stored series replayed for this market."""
        if self.source is None:
            return default_exchange, self.market
        exchange, pair = self.source.split(":", 1)
        return exchange, pair


class AccountConfig(_Model):
    """An emulator account: its API credentials and starting balances."""

    api_key: str | None = None
    api_secret: str | None = None
    api_key_env: str | None = None
    api_secret_env: str | None = None
    balances: dict[str, Decimal] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> AccountConfig:
        for name in ("key", "secret"):
            literal = getattr(self, f"api_{name}")
            env = getattr(self, f"api_{name}_env")
            if (literal is None) == (env is None):
                raise ValueError(f"give exactly one of api_{name} and api_{name}_env")
        for asset, amount in self.balances.items():
            if amount < 0:
                raise ValueError(f"balances.{asset} is negative ({amount}); use 0 or more")
        return self

    def credentials(self) -> tuple[str, str]:
        """The API key and secret (from the environment for the ``*_env`` fields)."""
        key, secret = self.api_key, self.api_secret
        if self.api_key_env is not None:
            key = os.environ.get(self.api_key_env)
        if self.api_secret_env is not None:
            secret = os.environ.get(self.api_secret_env)
        if not key or not secret:
            missing = [v for v in (self.api_key_env, self.api_secret_env) if v]
            raise ConfigError(f"environment variable(s) {', '.join(missing)} not set: export them")
        return key, secret


class FeesConfig(_Model):
    """Commission rates (fractions: 0.001 = 0.1 %), charged on what the order receives."""

    maker: Decimal = Field(default=Decimal("0.001"), ge=0, lt=1)
    taker: Decimal = Field(default=Decimal("0.001"), ge=0, lt=1)


class BookConfig(_Model):
    """The synthetic order book around the replayed price (see docs/emulator.md)."""

    spread_bps: float = Field(default=1.0, ge=0, le=1000)
    levels: int = Field(
        default=1000, ge=1, le=5000, description="levels per side the depth stream keeps current"
    )
    level_step_bps: float = Field(default=1.0, gt=0, le=1000)
    depth_fraction: float = Field(default=0.02, gt=0, le=100)
    volume_window_minutes: int = Field(default=60, ge=1, le=10080)


class MatchingConfig(_Model):
    """How resting orders fill against the replayed candles."""

    participation_rate: float = Field(default=0.1, gt=0, le=1)


class LimitsConfig(_Model):
    """Binance's limits: request weight per IP and minute, orders per account."""

    request_weight_per_minute: int = Field(default=6000, ge=1)
    orders_per_10s: int = Field(default=100, ge=1)
    orders_per_day: int = Field(default=200_000, ge=1)
    ban_after_429s: int = Field(default=5, ge=0)
    ban_seconds: int = Field(default=120, ge=1)
    max_ban_seconds: int = Field(default=259_200, ge=1)


class FaultsConfig(_Model):
    """Faults injected into the REST API (also settable at run time via /_emulator/faults,
    within the same bounds)."""

    error_rate: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    error_status: Literal[500, 502, 503, 504] = 503
    latency_ms: int = Field(default=0, ge=0, le=120_000)
    latency_jitter_ms: int = Field(default=0, ge=0, le=120_000)
    order_timeout_rate: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    order_timeout_hold_seconds: float = Field(default=30.0, gt=0, le=600, allow_inf_nan=False)
    seed: int | None = None


class RunTimeFaults(BaseModel):
    """The faults only ``POST /_emulator/faults`` sets (strict: ``true`` is not a count)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    order_timeout_next: int = Field(default=0, ge=0, le=1_000_000)
    stale_streams_seconds: float = Field(default=0.0, ge=0, le=86_400, allow_inf_nan=False)
    drop_streams: bool = False


class StreamsConfig(_Model):
    """WebSocket publishing cadence, in wall-clock milliseconds."""

    tick_ms: int = Field(default=100, ge=10, le=10_000)
    kline_ms: int = Field(default=1000, ge=10, le=60_000)
    ticker_ms: int = Field(default=1000, ge=10, le=60_000)


class EmulatorConfig(_Model):
    """The whole emulator configuration."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    store: Path | None = Field(
        default=None,
        description="candle store root; default the emulator's own, <home>/emulator/candles",
    )
    exchange: str = "binance"
    speed: float | Literal["step"] = 1.0
    replay_start: datetime | None = None
    replay_end: datetime | None = None
    state_file: Path | None = None
    resume: bool = True
    control_token: str | None = Field(default=None, min_length=16)
    control_token_env: str | None = None
    log_size: int = Field(default=10_000, ge=0, le=1_000_000)
    pairs: list[PairConfig] = Field(min_length=1)
    accounts: dict[str, AccountConfig] = Field(default_factory=dict)
    fees: FeesConfig = FeesConfig()
    book: BookConfig = BookConfig()
    matching: MatchingConfig = MatchingConfig()
    limits: LimitsConfig = LimitsConfig()
    faults: FaultsConfig = FaultsConfig()
    streams: StreamsConfig = StreamsConfig()

    @field_validator("speed", mode="before")
    @classmethod
    def _speed(cls, value: object) -> float | str:
        if value == "step":
            return "step"
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            speed = float(str(value))
        except ValueError:
            raise ValueError(
                "speed must be a number (1 = real time, 60 = a minute per second) or 'step'"
            ) from None
        if not 0 < speed <= 100_000:
            raise ValueError("speed must be above 0 and at most 100000, or 'step'")
        return speed

    @field_validator("replay_start", "replay_end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _unique(self) -> EmulatorConfig:
        symbols = [p.symbol for p in self.pairs]
        doubles = sorted({s for s in symbols if symbols.count(s) > 1})
        if doubles:
            raise ValueError(f"pairs: {', '.join(doubles)} listed more than once")
        return self

    @model_validator(mode="after")
    def _one_token(self) -> EmulatorConfig:
        if self.control_token is not None and self.control_token_env is not None:
            raise ValueError("give control_token or control_token_env, not both")
        return self

    def configured_control_token(self) -> str | None:
        """The control token the file sets (read from ``control_token_env`` if named)."""
        if self.control_token_env is None:
            return self.control_token
        token = os.environ.get(self.control_token_env)
        if not token or len(token) < 16:
            raise ConfigError(
                f"control_token_env: environment variable {self.control_token_env} is not set "
                "or holds fewer than 16 characters: export a long random token"
            )
        return token

    @property
    def stepped(self) -> bool:
        """True when the replay clock only moves on /_emulator/step."""
        return self.speed == "step"

    def start_ms(self) -> int | None:
        """``replay_start`` in ms, or None (then the latest first candle of the pairs)."""
        return None if self.replay_start is None else _ms(self.replay_start)

    def end_ms(self) -> int | None:
        """``replay_end`` in ms, or None (then the end of the shortest stored series)."""
        return None if self.replay_end is None else _ms(self.replay_end)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def load_config(path: Path) -> EmulatorConfig:
    """Read and validate ``path``; relative ``store`` and ``state_file`` are taken from its folder.

    Raises ConfigError naming each field at fault and the fix.
    """
    from candlewick.config.loader import format_validation_error, read_yaml

    data = read_yaml(path)
    try:
        config = EmulatorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(str(path), EmulatorConfig, exc)) from None
    base = path.parent
    updates: dict[str, Path] = {}
    for name in ("store", "state_file"):
        value: Path | None = getattr(config, name)
        if value is not None and not value.expanduser().is_absolute():
            updates[name] = base / value
        elif value is not None:
            updates[name] = value.expanduser()
    return config.model_copy(update=updates) if updates else config


def with_overrides(
    config: EmulatorConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    speed: str | None = None,
    start: str | None = None,
) -> EmulatorConfig:
    """``config`` with the command line's options applied (validated like the file)."""
    data = config.model_dump()
    for key, value in (("host", host), ("port", port), ("speed", speed), ("replay_start", start)):
        if value is not None:
            data[key] = value
    try:
        return EmulatorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error_text(exc)) from None


def format_validation_error_text(exc: ValidationError) -> str:
    """The problems of command-line overrides, one line each."""
    from candlewick.config.loader import format_validation_error

    return format_validation_error("command line", EmulatorConfig, exc)
