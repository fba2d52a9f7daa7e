"""A secret-looking value anywhere in a config is refused, unechoed; normal values pass."""

from __future__ import annotations

import base64
import random
import string
from pathlib import Path

import pytest

from candlewick.config.loader import load_trading_config, load_user_config
from candlewick.config.secrets import find_secrets
from candlewick.errors import ConfigError
from tests.unit.test_config import EXAMPLE, base, write

_RNG = random.Random(6)
BINANCE_KEY = "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(64))
KRAKEN_SECRET = base64.b64encode(_RNG.randbytes(64)).decode()
HEX_SECRET = _RNG.randbytes(32).hex()
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5hJOYdaCgpz5T\n-----END"
)

SECRETS = {
    "binance key": BINANCE_KEY,
    "kraken secret": KRAKEN_SECRET,
    "hex secret": HEX_SECRET,
    "hex secret, upper case": HEX_SECRET.upper(),
    "jwt": JWT,
    "pem block": PEM,
    "aws key id": "AKIAIOSFODNN7EXAMPLE",
    "key after a prefix": f"key={BINANCE_KEY}",
}

NORMAL = [
    "BTC/USDT",
    "sma_fast",
    "mtf_trend_follower",
    "06-22",
    "close_1h",
    "MyStrategyVersion2WithRsiPullback",
    "AVeryLongCamelCaseNameForMyBot2024V3Final",
    "StrongTrendFollowerWithTightStops2x",
    "mtf_trend_follower_with_rsi_pullback_v2",
    "sma_fast_10_sma_slow_30_rsi_14_atr_14_v2",
    "my-bot-2024-06-01-portfolio-15m-eight-pairs",
    "/home/alice/Projects/TradingBot2024/plugins/rsi_pullback_v2.py",
    "strategies/MyStrategyVersion2WithRsiPullback/setups.py",
    "BTCUSDTETHUSDTSOLUSDTXRPUSDTADAUSDTDOGEUSDT",
    "rsi14ema50ema200macd12269atr14bb20",
    "123e4567-e89b-12d3-a456-426614174000",
    "BINANCE_API_SECRET",
]


@pytest.mark.parametrize("secret", list(SECRETS.values()), ids=list(SECRETS))
def test_secret_looking_value_anywhere_is_refused(tmp_path: Path, secret: str) -> None:
    data = base()
    data["filters"] = [{"name": "volume", "params": {"column": secret}}]
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_trading_config(path)
    message = str(err.value)
    assert str(path) in message and "filters[0].params.column" in message
    assert "secrets must not be written" in message
    assert "environment variable" in message and ".env.example" in message
    assert secret not in message and secret.splitlines()[-1] not in message


def test_the_message_gives_the_line(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("name: sma_cross", f"name: {BINANCE_KEY}")
    line = text.splitlines().index(f"name: {BINANCE_KEY}") + 1
    with pytest.raises(ConfigError, match=f"line {line}, name: secrets must not be written"):
        load_trading_config(write(tmp_path, text))


def test_secret_values_in_lists_and_user_files(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(f"name: alice\nemail: [{KRAKEN_SECRET}]\n")
    with pytest.raises(ConfigError, match=r"email\[0\]: secrets must not be written"):
        load_user_config(path)


@pytest.mark.parametrize("value", NORMAL)
def test_normal_values_are_not_secrets(value: str) -> None:
    assert find_secrets({"name": value, "params": {"x": [value]}}) == []


def test_secret_looking_keys_are_still_refused() -> None:
    found = find_secrets({"accounts": {"main": {"api_key": "x", "api_key_env": "BINANCE_KEY"}}})
    assert [where for where, _ in found] == [("accounts", "main", "api_key")]
