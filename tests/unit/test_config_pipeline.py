"""Loading a config runs the checks the backtest runs: the whole pipeline on sample candles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from candlewick.config.loader import load_trading_config
from candlewick.config.models import TradingConfig
from candlewick.config.pipeline_check import sample_candles
from candlewick.errors import ConfigError
from candlewick.signals import SETUPS
from tests.unit.test_config import base, write

PLUGIN = '''
from candlewick.signals import SetupSignals, column, setup


@setup("needs_trend_{tag}", defaults={{"trend": "trend"}})
def needs_trend(frame, params):
    """Reads the column its trend param names; divides by zero when told to."""
    trend = column(frame, params, "trend")
    if params["trend"] == "close":
        raise ZeroDivisionError("division by zero")
    up = frame["close"].to_numpy() > trend
    return SetupSignals(up, ~up)
'''


def refused(tmp_path: Path, data: dict[str, Any]) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_trading_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    return message


def test_a_setup_naming_a_missing_column_is_refused(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [
        {"name": "ma_cross"},
        {"name": "ma_cross", "params": {"fast": "sma_fast", "slow": "sma_slw"}},
    ]
    message = refused(tmp_path, data)
    assert "setups[1]: setup 'ma_cross': param 'slow' names column 'sma_slw'" in message
    assert "setups[0]" not in message


def test_a_filter_naming_a_missing_informative_column_is_refused(tmp_path: Path) -> None:
    data = base()
    data["filters"] = [
        {"name": "volume"},
        {"name": "htf_trend", "params": {"price": "close", "trend": "ema_4h"}},
    ]
    message = refused(tmp_path, data)
    assert "filters[1]: filter 'htf_trend'" in message and "'ema_4h'" in message


def test_a_bad_setup_choice_is_refused(tmp_path: Path) -> None:
    data = base()
    data["indicators"] = [{"id": "rsi", "name": "rsi"}]
    data["setups"] = [{"name": "rsi_mean_reversion", "params": {"entry": "sideways"}}]
    assert "setups[0]: setup 'rsi_mean_reversion': param 'entry' must be one of" in refused(
        tmp_path, data
    )


@pytest.mark.parametrize(
    ("indicators", "fragment"),
    [
        ([{"id": "close", "name": "sma"}], "indicators: indicator spec 'close'"),
        (
            [{"id": "bb", "name": "bbands"}, {"id": "bb_upper", "name": "sma"}],
            "column 'bb_upper' is already produced",
        ),
    ],
)
def test_indicator_columns_that_clash_are_refused(
    tmp_path: Path, indicators: list[dict[str, Any]], fragment: str
) -> None:
    data = base()
    data["indicators"] = [
        *indicators,
        {"id": "sma_fast", "name": "sma"},
        {"id": "sma_slow", "name": "sma"},
    ]
    assert fragment in refused(tmp_path, data)


def test_a_plugin_failing_on_the_sample_is_named(tmp_path: Path) -> None:
    (tmp_path / "plugin.py").write_text(PLUGIN.format(tag="zero"))
    data = base()
    data["plugins"] = ["plugin.py"]
    data["setups"] = [
        {"name": "ma_cross"},
        {"name": "needs_trend_zero", "params": {"trend": "close"}},
    ]
    message = refused(tmp_path, data)
    assert "setups[1]: setup 'needs_trend_zero' failed on sample candles" in message
    assert "ZeroDivisionError: division by zero" in message


def test_a_plugin_column_reference_is_checked(tmp_path: Path) -> None:
    (tmp_path / "plugin.py").write_text(PLUGIN.format(tag="column"))
    data = base()
    data["plugins"] = ["plugin.py"]
    data["setups"] = [{"name": "needs_trend_column"}]
    assert "setups[0]: setup 'needs_trend_column': param 'trend' names column 'trend'" in (
        refused(tmp_path, data)
    )


def test_parameter_numbers_are_bounded(tmp_path: Path) -> None:
    data = base()
    data["setups"] = [{"name": "donchian_breakout", "params": {"period": 10**30}}]
    message = refused(tmp_path, data)
    assert "setups[0].params: period" in message and "1e15" in message


def test_the_check_is_quick_even_for_weekly_informative_candles(tmp_path: Path) -> None:
    data = base()
    data["timeframe"] = "1m"
    data["pairs"] = [f"C{i:03d}/USDT" for i in range(100)]
    data["informative_timeframes"] = ["1w"]
    data["indicators"] = [
        {"id": "sma_fast", "name": "sma", "params": {"period": 10}},
        {"id": "sma_slow", "name": "sma", "params": {"period": 30}},
        {"id": "ema_1w", "name": "ema", "timeframe": "1w"},
    ]
    data["filters"] = [{"name": "htf_trend", "params": {"price": "close_1w", "trend": "ema_1w"}}]
    config = load_trading_config(write(tmp_path, data))
    assert len(config.pairs) == 100
    # the sample holds three weekly candles of 1m bars, no more (the engine runs on its tail)
    assert len(sample_candles(config)) == 3 * 7 * 24 * 60 + 2


def test_sample_candles_cover_three_of_the_longest_informative_candles() -> None:
    config = TradingConfig.model_validate(
        base() | {"timeframe": "15m", "informative_timeframes": ["1h", "1d"]}
    )
    candles = sample_candles(config)
    assert candles.timeframe == "15m"
    assert len(candles) >= 3 * 96
    assert (candles.low <= candles.open).all() and (candles.high >= candles.close).all()
    assert (candles.volume > 0).all()


COUNTING = '''
from candlewick.signals import SetupSignals, setup

calls = []


@setup("counting_{tag}", defaults={{}})
def counting(frame, params):
    """Counts its calls in module state."""
    calls.append(len(frame))
    up = (frame["close"] > frame["open"]).to_numpy()
    return SetupSignals(up, ~up)
'''


def test_the_check_leaves_plugin_state_untouched(tmp_path: Path) -> None:
    tag = tmp_path.name.replace("-", "_")
    (tmp_path / "counting.py").write_text(COUNTING.format(tag=tag))
    data = base()
    data["plugins"] = ["counting.py"]
    data["setups"] = [{"name": f"counting_{tag}"}]
    config = load_trading_config(write(tmp_path, data))
    module = sys.modules[SETUPS.get(config.setups[0].name).__module__]
    assert module.calls == []
