"""The emulator's configuration: defaults, validation messages, paths, command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from candlewick.emulator.config import EmulatorConfig, load_config, with_overrides
from candlewick.errors import ConfigError

PAIR = '{market: btc/usdt, tick_size: "0.01", step_size: "0.00001"}'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "emulator.yaml"
    path.write_text(text)
    return path


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, f"store: candles\nstate_file: s/state.db\npairs: [{PAIR}]\n")
    )
    pair = config.pairs[0]
    assert (pair.market, pair.symbol, pair.base, pair.quote) == (
        "BTC/USDT",
        "BTCUSDT",
        "BTC",
        "USDT",
    )
    assert pair.store_key("binance") == ("binance", "BTC/USDT")
    assert config.store == tmp_path / "candles" and config.state_file == tmp_path / "s" / "state.db"
    assert (config.host, config.speed, config.stepped) == ("127.0.0.1", 1.0, False)
    assert config.limits.request_weight_per_minute == 6000
    assert config.start_ms() is None


def test_errors_name_the_field(tmp_path: Path) -> None:
    text = (
        "speed: fast\nreplay_start: 2026-03-25\n"
        f"pairs: [{PAIR}, {PAIR}, {{market: ETHUSDT, tick_size: 0, step_size: 1}}]\n"
        "accounts: {a: {api_key: k, balances: {USDT: -1}}}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    message = str(error.value)
    for expected in (
        "speed: speed must be a number",
        "pairs[2].market: write the market as BASE/QUOTE",
        "pairs[2].tick_size",
        "accounts.a",
    ):
        assert expected in message, message


def test_accounts_need_one_source_per_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"pairs": [{"market": "BTC/USDT", "tick_size": "0.01", "step_size": "1"}]}
    with pytest.raises(ValueError, match="exactly one of api_key and api_key_env"):
        EmulatorConfig.model_validate({**base, "accounts": {"a": {"api_secret": "s"}}})
    config = EmulatorConfig.model_validate(
        {**base, "accounts": {"a": {"api_key_env": "EMU_K", "api_secret": "s"}}}
    )
    with pytest.raises(ConfigError, match="EMU_K"):
        config.accounts["a"].credentials()
    monkeypatch.setenv("EMU_K", "key-from-env")
    assert config.accounts["a"].credentials() == ("key-from-env", "s")
    with pytest.raises(ValueError, match="listed more than once"):
        EmulatorConfig.model_validate({"pairs": base["pairs"] * 2})


def test_command_line_overrides(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f"pairs: [{PAIR}]\n"))
    changed = with_overrides(config, port=0, speed="step", start="2026-03-25T06:00:00Z")
    assert (changed.port, changed.stepped, changed.start_ms()) == (0, True, 1_774_418_400_000)
    with pytest.raises(ConfigError, match="port"):
        with_overrides(config, port=70_000)
