"""The lookahead check runs every cut with fresh plugin state: state kept between calls cannot
hide a future read, and the check leaves the backtest's own plugin modules untouched."""

from __future__ import annotations

import pickle
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from candlewick.config.loader import load_trading_config
from candlewick.core.types import BoolArr, Candles
from candlewick.modes.backtest import lookahead_reports
from candlewick.modes.strategy import build_pair_frame, pair_signals, strategy_specs
from candlewick.paths import shared_data_dir
from candlewick.signals import FILTERS, SETUPS, check_lookahead

PAIR = "XRP/USDT"

# Memoises its signals per series on the longest history seen and slices them afterwards: the
# full history (computed first) then answers every truncated call with future-made values.
MEMO_SETUP = '''
import numpy as np
from candlewick.signals import SetupSignals, setup

_memo = {}


@setup("memo_peek_TAG", defaults={})
def memo_peek(frame, params):
    """Next close higher, memoised per series (first timestamp)."""
    key = int(frame["timestamp"].iloc[0])
    known = _memo.get(key)
    if known is None or len(known) < len(frame):
        close = frame["close"]
        known = (close.shift(-1) > close).to_numpy()
        _memo[key] = known
    up = known[: len(frame)]
    return SetupSignals(up, ~up)
'''

# Keeps "the highest close seen" across calls, taken over each whole frame it is given: the
# first call (the full history) stores the future's highest close for every later call.
HIGHEST_FILTER = '''
import numpy as np
from candlewick.signals import filter_, verdict

_highest = [float("-inf")]


@filter_("near_the_top_TAG", defaults={"within": 0.02})
def near_the_top(frame, entries, params):
    """Keeps entries within ``within`` of the highest close seen so far."""
    close = frame["close"].to_numpy()
    _highest[0] = max(_highest[0], float(np.nanmax(close)))
    keep = close >= (1 - params["within"]) * _highest[0]
    return verdict(entries, keep, lambda i: "below the highest close seen")
'''

CONFIG = """
name: stateful
pairs: [XRP/USDT]
timeframe: 5m
plugins: [{plugin}]
indicators:
  - {{id: sma_fast, name: sma, params: {{period: 10}}}}
  - {{id: sma_slow, name: sma, params: {{period: 30}}}}
setups:
  - name: {setup}
filters: {filters}
"""


@pytest.fixture(scope="module")
def xrp() -> Candles:
    data = shared_data_dir()
    if data is None:
        pytest.skip("shared data folder (../shared/data) not found")
    df = pd.read_csv(data / "candles" / "binance_XRP-USDT_5m.csv")
    columns = (df[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume"))
    return Candles("binance", PAIR, "5m", df["timestamp"].to_numpy(np.int64), *columns)


def stateful_config(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A config using a stateful plugin (written to ``tmp_path``); returns it and the name."""
    tag = uuid.uuid4().hex[:8]  # registry names are process-wide: one per test
    source, name = (MEMO_SETUP, f"memo_peek_{tag}")
    if kind == "filter":
        source, name = (HIGHEST_FILTER, f"near_the_top_{tag}")
    (tmp_path / f"plugin_{tag}.py").write_text(source.replace("TAG", tag))
    setup, filters = (name, "[]") if kind == "setup" else ("ma_cross", f"[{{name: {name}}}]")
    path = tmp_path / "stateful.yaml"
    path.write_text(
        CONFIG.format(plugin=f"plugin_{tag}.py", setup=setup, filters=filters), encoding="utf-8"
    )
    return path, name


@pytest.mark.parametrize("kind", ["setup", "filter"])
def test_a_plugin_keeping_state_between_calls_is_caught(
    tmp_path: Path, xrp: Candles, kind: str
) -> None:
    path, name = stateful_config(tmp_path, kind)
    config = load_trading_config(path)
    registry = SETUPS if kind == "setup" else FILTERS
    original = registry.get(name)
    module = sys.modules[original.__module__]
    state = module._memo if kind == "setup" else module._highest
    before = pickle.dumps(state)  # (loading the config may already have run the plugin)

    report = lookahead_reports(config, {PAIR: xrp})[PAIR]
    assert not report.ok, report.summary()

    # The check ran on fresh copies of the plugin: the backtest's module is as it was, and the
    # registry holds the original function again.
    assert pickle.dumps(state) == before
    assert registry.get(name) is original

    # Without fresh state the same cuts see nothing: the state hides the future read.
    specs = strategy_specs(config)

    def stale(end: int) -> tuple[BoolArr, BoolArr]:
        signals = pair_signals(specs, build_pair_frame(config, specs, xrp.slice(0, end)))
        return signals.entry, signals.exit

    assert check_lookahead(stale, len(xrp), timestamps=xrp.timestamp).ok
    # ... and a module whose state is already polluted does not fool the check either.
    assert not lookahead_reports(config, {PAIR: xrp})[PAIR].ok
