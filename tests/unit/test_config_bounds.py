"""Every number of a config has sane bounds, a number is never true/false, lists are short."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from candlewick.config.loader import load_trading_config, load_user_config
from candlewick.errors import ConfigError
from tests.unit.test_config import base, write

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def refused(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        load_trading_config(write(tmp_path, data))
    return str(err.value)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_within_bounds(path: Path) -> None:
    assert load_trading_config(path).name == path.stem


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("risk", "time_stop_bars"),
        ("risk", "cooldown_bars"),
        ("risk", "max_open_positions"),
        ("risk", "stop_loss_atr"),
        ("risk", "take_profit_rr"),
        ("risk", "max_pair_exposure"),
        ("slippage", "impact"),
        ("backtest", "initial_cash"),
        ("fees", "taker"),
        (None, "vote_threshold"),
    ],
)
def test_true_is_not_a_number(tmp_path: Path, section: str | None, key: str) -> None:
    data = base()
    if section is None:
        data[key] = True
    elif "atr" in key:
        data["indicators"] = [{"id": "atr", "name": "atr"}]
        data[section] = {key: True, "atr_indicator": "atr"}
    else:
        data[section] = {key: True}
    field = key if section is None else f"{section}.{key}"
    message = refused(tmp_path, data)
    assert f"{field}: " in message and "(found True)" in message


def test_setup_weight_true_is_refused(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [{"name": "ma_cross", "weight": True}]
    assert "setups[0].weight: " in refused(tmp_path, data)


@pytest.mark.parametrize(
    ("section", "values"),
    [
        ("risk", {"time_stop_bars": 10**30}),
        ("risk", {"cooldown_bars": 10**7}),
        ("risk", {"max_open_positions": 10**6}),
        ("risk", {"take_profit_pct": 1e6}),
        ("risk", {"take_profit_rr": 1e9}),
        ("slippage", {"bps": 50_000}),
        ("slippage", {"impact": 1e6}),
        ("fees", {"taker": 0.5}),
        ("backtest", {"initial_cash": 10**30}),
        ("backtest", {"start": "1970-01-01"}),
        ("backtest", {"end": "2999-01-01"}),
    ],
)
def test_out_of_bounds_values_are_refused(
    tmp_path: Path, section: str, values: dict[str, object]
) -> None:
    data = base()
    data[section] = values
    key = next(iter(values))
    assert f"{section}.{key}: " in refused(tmp_path, data)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_infinite_and_nan_numbers_are_refused(tmp_path: Path, value: float) -> None:
    data = base()
    data["slippage"] = {"impact": value}
    assert "slippage.impact: " in refused(tmp_path, data)


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("equity_fraction", {"fraction": 5.0}, "sizing.params.fraction must be a number in (0, 1]"),
        ("equity_fraction", {"fraction": 0}, "sizing.params.fraction must be a number in (0, 1]"),
        ("equity_fraction", {"fraction": True}, "sizing.params.fraction must be a number"),
        ("risk_percent", {"risk": 2.0}, "sizing.params.risk must be a number in (0, 0.1]"),
        ("fixed_quote", {"amount": 0}, "sizing.params.amount must be a number in (0, "),
        ("fixed_quote", {"amount": 1e13}, "sizing.params.amount must be a number in (0, "),
        ("kelly", {"cap": 3}, "sizing.params.cap must be a number in (0, 1]"),
        ("kelly", {"multiplier": 0}, "sizing.params.multiplier must be a number in (0, 1]"),
        ("kelly", {"fallback": 0}, "sizing.params.fallback must be a number in (0, 1]"),
        ("kelly", {"min_trades": 2.5}, "sizing.params.min_trades must be a whole number"),
        ("kelly", {"win_rate": 0.6, "payoff": 1.5, "fallback": 9}, "sizing.params.fallback"),
        ("kelly", {"win_rate": 1.6, "payoff": 1.5}, "sizing.params.win_rate must be a number in"),
        ("kelly", {"win_rate": 0.6}, "give both sizing.params.win_rate and payoff"),
    ],
)
def test_sizing_parameters_have_bounds(
    tmp_path: Path, method: str, params: dict[str, object], fragment: str
) -> None:
    data = base()
    data["sizing"] = {"method": method, "params": params}
    data["risk"] = {"stop_loss_pct": 0.02}
    assert fragment in refused(tmp_path, data)


def test_sizing_parameters_within_bounds_load(tmp_path: Path) -> None:
    data = base()
    data["risk"] = {"stop_loss_pct": 0.02}
    for method, params in [
        ("equity_fraction", {"fraction": 1}),
        ("risk_percent", {"risk": 0.1}),
        ("fixed_quote", {"amount": 0.5}),
        ("kelly", {"win_rate": 0.55, "payoff": 1.2, "cap": 1, "multiplier": 1}),
    ]:
        data["sizing"] = {"method": method, "params": params}
        assert load_trading_config(write(tmp_path, data)).sizing.method == method


@pytest.mark.parametrize("timeframe", ["99999999999999999999999m", "100000w", "7m", "1M"])
def test_only_supported_timeframes(tmp_path: Path, timeframe: str) -> None:
    data = base()
    data["timeframe"] = timeframe
    message = refused(tmp_path, data)
    assert "timeframe: " in message and "1m, 3m, 5m, 15m" in message


@pytest.mark.parametrize(
    ("key", "count", "limit"),
    [("setups", 5000, 32), ("filters", 100, 32), ("indicators", 500, 64), ("pairs", 500, 100)],
)
def test_long_lists_are_refused_in_one_line(
    tmp_path: Path, key: str, count: int, limit: int
) -> None:
    data = base()
    items: dict[str, Any] = {
        "setups": {"name": "ma_cross"},
        "filters": {"name": "volume"},
    }
    if key == "indicators":
        data[key] = [{"id": f"sma_{i}", "name": "sma"} for i in range(count)]
    elif key == "pairs":
        data[key] = [f"C{i:04d}/USDT" for i in range(count)]
    else:
        data[key] = [items[key]] * count
    message = refused(tmp_path, data)
    assert f"{key}: " in message and f"at most {limit}" in message
    assert len(message.splitlines()) <= 14


def test_informative_timeframes_are_distinct(tmp_path: Path) -> None:
    data = base()
    data["informative_timeframes"] = ["1h", "1h"]
    assert "informative_timeframes: 1h is listed twice" in refused(tmp_path, data)


@pytest.mark.parametrize(
    ("key", "value"),
    [("name", "../../outside"), ("name", "x" * 200), ("exchange", "../binance")],
)
def test_names_that_become_paths_are_plain(tmp_path: Path, key: str, value: str) -> None:
    data = base()
    data[key] = value
    assert f"{key}: " in refused(tmp_path, data)


def test_user_file_fields_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    accounts = "".join(
        f"  a{i}: {{exchange: binance, api_key_env: K{i}, api_secret_env: S{i}}}\n"
        for i in range(40)
    )
    path.write_text(f"name: {'x' * 100}\naccounts:\n{accounts}")
    with pytest.raises(ConfigError) as err:
        load_user_config(path)
    assert "name: " in str(err.value) and "accounts: " in str(err.value)
    path.write_text(
        "name: alice\naccounts:\n  main: {exchange: ../x, api_key_env: K, api_secret_env: S}\n"
    )
    with pytest.raises(ConfigError, match=r"accounts\.main\.exchange: "):
        load_user_config(path)
