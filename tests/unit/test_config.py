"""Config files: valid ones load; every mistake names the field, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from candlewick.config.loader import load_trading_config, load_user_config, parse_model
from candlewick.config.models import TradingConfig
from candlewick.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sma_cross.yaml"


def write(tmp_path: Path, data: dict[str, object] | str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def base() -> dict[str, object]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def test_reference_example_loads() -> None:
    config = load_trading_config(EXAMPLE)
    assert config.pairs == ["BTC/USDT"]
    assert config.timeframe == "5m"
    assert [i.id for i in config.indicators] == ["sma_fast", "sma_slow"]
    assert config.quote == "USDT"


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    data = base()
    data["risk"] = {"stop_los_pct": 0.02}
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    message = str(err.value)
    assert "risk.stop_los_pct: unknown key" in message
    assert "did you mean 'stop_loss_pct'" in message


def test_bad_value_names_field_and_value(tmp_path: Path) -> None:
    data = base()
    data["risk"] = {"stop_loss_pct": -0.5}
    with pytest.raises(ConfigError, match=r"risk\.stop_loss_pct: .*greater than 0 \(found -0\.5\)"):
        load_trading_config(write(tmp_path, data))


def test_bad_pair_and_timeframe(tmp_path: Path) -> None:
    data = base()
    data["pairs"] = ["btcusdt"]
    data["timeframe"] = "7x"
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    assert "pairs: " in str(err.value) and "BASE/QUOTE" in str(err.value)
    assert "timeframe: unknown timeframe '7x'" in str(err.value)


def test_cross_field_rules(tmp_path: Path) -> None:
    data = base()
    data["informative_timeframes"] = ["3m"]
    with pytest.raises(ConfigError, match="3m must be a whole multiple of the base timeframe 5m"):
        load_trading_config(write(tmp_path, data))
    data = base()
    data["risk"] = {"stop_loss_atr": 2}
    with pytest.raises(ConfigError, match=r"risk\.atr_indicator"):
        load_trading_config(write(tmp_path, data))


def test_unknown_registered_names_get_suggestions(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [{"name": "ma_crosss", "params": {}}]
    data["sizing"] = {"method": "all_inn"}
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    assert "setups[0].name: unknown setup 'ma_crosss'. did you mean 'ma_cross'?" in str(err.value)
    assert "sizing.method: unknown sizing method 'all_inn'" in str(err.value)


def test_secrets_are_refused_in_files(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    path.write_text("name: alice\naccounts:\n  main:\n    exchange: binance\n    api_key: abc\n")
    with pytest.raises(ConfigError, match=r"accounts\.main\.api_key: secrets must not be written"):
        load_user_config(path)


def test_user_file_names_environment_variables(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(
        "name: alice\naccounts:\n  main:\n    exchange: binance\n"
        "    api_key_env: BINANCE_API_KEY\n    api_secret_env: BINANCE_API_SECRET\n"
    )
    assert load_user_config(path).accounts["main"].api_key_env == "BINANCE_API_KEY"


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"YAML syntax error: .* started at line 2, column"):
        load_trading_config(write(tmp_path, "name: x\npairs: [BTC/USDT\n"))


def test_missing_file_and_missing_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_trading_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="setups: required, but missing"):
        parse_model(TradingConfig, {"name": "x", "pairs": ["BTC/USDC"]}, "inline")


def test_schema_is_json_schema() -> None:
    schema = TradingConfig.model_json_schema()
    assert schema["additionalProperties"] is False
    assert "execution_mode" in schema["properties"]


def test_indicator_parameters_are_checked_at_load(tmp_path: Path) -> None:
    data = base()
    data["indicators"] = [
        {"id": "sma_fast", "name": "sma", "params": {"perod": 10}},
        {"id": "sma_slow", "name": "sma", "params": {"period": 0}},
        {"id": "bb", "name": "bbands", "source": "hl2"},
        {"id": "atr", "name": "atr", "source": "hl2"},
    ]
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    message = str(err.value)
    assert "indicators[0].params: indicator 'sma' has no parameter 'perod'" in message
    assert "indicators[1].params:" in message and "period" in message
    assert "indicators[3].source: 'atr' takes high, low, close" in message
    assert "indicators[2]" not in message


def test_setup_and_filter_parameters_are_checked_at_load(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [{"name": "ma_cross", "params": {"fast": "sma_fast", "slwo": "sma_slow"}}]
    data["filters"] = [{"name": "volume", "params": {"min_ratio": 0.5}}]
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    message = str(err.value)
    assert "setups[0].params.slwo: unknown parameter. did you mean 'slow'?" in message
    assert "filters[0].params.min_ratio: unknown parameter." in message


def test_pairs_share_one_quote_currency(tmp_path: Path) -> None:
    data = base()
    data["pairs"] = ["BTC/USDT", "ETH/BTC"]
    with pytest.raises(ConfigError, match="need one quote currency; found BTC, USDT"):
        load_trading_config(write(tmp_path, data))


def test_backtest_dates_are_real_and_ordered(tmp_path: Path) -> None:
    data = base()
    data["backtest"] = {"start": "2024-02-30"}
    with pytest.raises(ConfigError, match=r"backtest\.start:"):
        load_trading_config(write(tmp_path, data))
    data["backtest"] = {"start": "2024-02-01", "end": "2024-01-01"}
    with pytest.raises(ConfigError, match=r"must be before backtest\.end"):
        load_trading_config(write(tmp_path, data))


@pytest.mark.parametrize("key", ["privateKey", "secret_key", "passphrase", "API-KEY", "token"])
def test_secret_looking_keys_are_refused(tmp_path: Path, key: str) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(f"name: alice\naccounts:\n  main:\n    exchange: binance\n    {key}: x\n")
    with pytest.raises(ConfigError, match="secrets must not be written"):
        load_user_config(path)


def test_null_parameter_values_are_allowed(tmp_path: Path) -> None:
    data = base()
    data["filters"] = [{"name": "volume", "params": {"k": None, "min_volume": 10}}]
    assert load_trading_config(write(tmp_path, data)).filters[0].params["k"] is None


def test_one_line_per_bad_parameter_value(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [{"name": "ma_cross", "params": {"fast": {"nested": 1}}}]
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    assert str(err.value).count("setups[0].params.fast") == 1


def test_sizing_parameters_are_checked_at_load(tmp_path: Path) -> None:
    data = base()
    data["sizing"] = {"method": "fixed_quote", "params": {"amount": "abc"}}
    with pytest.raises(ConfigError, match=r"sizing\.params\.amount must be a number in \(0, "):
        load_trading_config(write(tmp_path, data))
    data["sizing"] = {"method": "equity_fraction", "params": {"fractoin": 0.1}}
    with pytest.raises(ConfigError, match=r"sizing\.params\.fractoin: unknown parameter"):
        load_trading_config(write(tmp_path, data))


def test_account_credentials_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(
        "name: alice\naccounts:\n  main:\n    exchange: binance\n"
        "    api_key_env: CW_TEST_KEY\n    api_secret_env: CW_TEST_SECRET\n"
    )
    account = load_user_config(path).accounts["main"]
    monkeypatch.delenv("CW_TEST_SECRET", raising=False)
    monkeypatch.setenv("CW_TEST_KEY", "k")
    with pytest.raises(ConfigError, match="CW_TEST_SECRET not set"):
        account.credentials()
    monkeypatch.setenv("CW_TEST_SECRET", "s")
    assert account.credentials() == ("k", "s")


def test_many_problems_fit_on_one_screen(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [{"name": f"no_such_setup_{i}"} for i in range(30)]
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    lines = str(err.value).splitlines()
    assert lines[0].endswith("30 problem(s):") and len(lines) == 14
    assert lines[-1] == "  ... and 18 more: fix these first"
