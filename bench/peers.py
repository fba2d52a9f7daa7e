"""The reference strategy outside Candlewick: backtesting.py, vectorbt, and a plain Decimal loop.

The strategy (the same as ``examples/sma_cross.yaml``): SMA(close, 10) and SMA(close, 30);
enter long when ``fast[t] > slow[t]`` and ``fast[t-1] <= slow[t-1]``; exit when
``fast[t] < slow[t]`` and ``fast[t-1] >= slow[t-1]``; the order fills at the open of bar t+1;
fee 0.1 % per side; no slippage; all cash on each entry, fractional amounts; 10,000 to start;
a position still open after the last bar is sold at the last close, paying the fee.

Each peer runs in its own process, ``python -m bench.peers backtesting|vectorbt DATA.npz``,
and prints one JSON object: ``trade_count``, ``final_equity`` and the seconds spent in its
phases (``import``, ``load``, ``run``). DATA.npz holds the candles as plain arrays (timestamp,
open, high, low, close, volume), the fastest thing to load, so the peers pay no CSV parsing.

Fees differ by design between the tools and are not hidden: Candlewick (and the Decimal loop)
take the fee from what is received, as Binance spot does (the buy's fee in the base asset);
backtesting.py and vectorbt charge it in cash on top of the order value, so one round trip
keeps ``0.999 / 1.001`` of the price move instead of ``0.999 ** 2`` (about 1e-6 apart).

Top-level imports are the standard library only: the peers' own imports are part of what the
benchmark measures.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

FAST, SLOW = 10, 30
FEE = 0.001
INITIAL_CASH = 10_000.0


@dataclass(frozen=True, slots=True)
class ReferenceResult:
    """What the independent Decimal loop found."""

    trade_count: int
    final_equity: Decimal
    ties: int  # bars where SMA(10) == SMA(30) exactly
    open_at_end: bool  # a position was still open after the last bar (sold at the last close)


def reference_backtest(csv_path: Path) -> ReferenceResult:
    """The reference strategy as a straightforward loop over the CSV's decimal text.

    Shares no code with Candlewick: prices are the file's own decimals, the SMA comparison is
    exact (``fast > slow`` iff ``3 * sum10 > sum30``, so float rounding cannot flip a
    crossover), and every amount is a Decimal with the default 28-digit context.
    """
    opens, closes = _read_decimal_columns(csv_path)
    n = len(closes)
    # sign of SMA10 - SMA30 at each bar, None while SMA30 is not defined
    sign: list[int | None] = [None] * n
    sum_fast = sum_slow = Decimal(0)
    for t, price in enumerate(closes):
        sum_fast += price
        sum_slow += price
        if t >= FAST:
            sum_fast -= closes[t - FAST]
        if t >= SLOW:
            sum_slow -= closes[t - SLOW]
        if t >= SLOW - 1:
            diff = 3 * sum_fast - sum_slow  # SLOW / FAST == 3
            sign[t] = (diff > 0) - (diff < 0)
    fee = Decimal(str(FEE))
    cash, qty = Decimal(int(INITIAL_CASH)), Decimal(0)
    holding, trades = False, 0
    for t in range(1, n - 1):
        now, before = sign[t], sign[t - 1]
        if now is None or before is None:
            continue
        if not holding and now > 0 and before <= 0:
            bought = cash / opens[t + 1]
            qty, cash, holding = bought - bought * fee, Decimal(0), True
        elif holding and now < 0 and before >= 0:
            gross = qty * opens[t + 1]
            cash, qty, holding = gross - gross * fee, Decimal(0), False
            trades += 1
    open_at_end = holding
    if holding:
        gross = qty * closes[-1]
        cash, trades = gross - gross * fee, trades + 1
    ties = sum(1 for s in sign if s == 0)
    return ReferenceResult(trades, cash, ties, open_at_end)


def _read_decimal_columns(path: Path) -> tuple[list[Decimal], list[Decimal]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        i_open, i_close = header.index("open"), header.index("close")
        opens, closes = [], []
        for row in rows:
            opens.append(Decimal(row[i_open]))
            closes.append(Decimal(row[i_close]))
    return opens, closes


def run_backtesting_py(data_path: Path) -> dict[str, Any]:
    """backtesting.py 0.6: FractionalBacktest (satoshi units), next-open fills, finalize."""
    clock = time.perf_counter()
    import numpy as np
    import pandas as pd
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    phases = {"import": time.perf_counter() - clock}
    clock = time.perf_counter()
    frame = _ohlcv_frame(np, pd, data_path, capitalised=True)
    phases["load"] = time.perf_counter() - clock

    def sma(values: Any, period: int) -> Any:
        return pd.Series(values).rolling(period).mean().to_numpy()

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            fast, slow = self.fast, self.slow
            if not self.position:
                if fast[-1] > slow[-1] and fast[-2] <= slow[-2]:
                    self.buy()
            elif fast[-1] < slow[-1] and fast[-2] >= slow[-2]:
                self.position.close()

    clock = time.perf_counter()
    test = FractionalBacktest(
        frame,
        SmaCross,
        cash=INITIAL_CASH,
        commission=FEE,
        trade_on_close=False,
        finalize_trades=True,
        exclusive_orders=False,
    )
    stats = test.run()
    phases["run"] = time.perf_counter() - clock
    return {
        "tool": "backtesting.py",
        "trade_count": len(stats["_trades"]),
        "final_equity": float(stats["Equity Final [$]"]),
        "phases": phases,
    }


def run_vectorbt(data_path: Path) -> dict[str, Any]:
    """vectorbt: Portfolio.from_signals, signals shifted one bar, price = open, fees 0.001.

    The position still open after the last bar is closed by an exit signal on the last bar
    at price = that bar's close (vectorbt leaves positions open otherwise).
    """
    clock = time.perf_counter()
    import numpy as np
    import pandas as pd
    import vectorbt as vbt

    phases = {"import": time.perf_counter() - clock}
    clock = time.perf_counter()
    frame = _ohlcv_frame(np, pd, data_path, capitalised=False)
    phases["load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    close = frame["close"]
    fast = vbt.MA.run(close, FAST).ma
    slow = vbt.MA.run(close, SLOW).ma
    entry = (fast > slow) & (fast.shift(1) <= slow.shift(1))
    exit_ = (fast < slow) & (fast.shift(1) >= slow.shift(1))
    entries = entry.shift(1, fill_value=False).to_numpy(copy=True)
    exits = exit_.shift(1, fill_value=False).to_numpy(copy=True)
    price = frame["open"].to_numpy(copy=True)
    # an entry on the last bar would clash with the forced exit there (vectorbt drops both)
    clash = bool(entries[-1])
    exits[-1], price[-1] = True, close.iloc[-1]
    portfolio = vbt.Portfolio.from_signals(
        close,
        entries,
        exits,
        price=price,
        fees=FEE,
        init_cash=INITIAL_CASH,
        freq="5min",
    )
    trade_count = int(portfolio.trades.count())
    final_equity = float(portfolio.final_value())
    phases["run"] = time.perf_counter() - clock
    return {
        "tool": "vectorbt",
        "trade_count": trade_count,
        "final_equity": final_equity,
        "last_bar_clash": clash,
        "phases": phases,
    }


def _ohlcv_frame(np: Any, pd: Any, data_path: Path, *, capitalised: bool) -> Any:
    with np.load(data_path) as data:
        columns = {name: data[name] for name in ("open", "high", "low", "close", "volume")}
        index = pd.to_datetime(data["timestamp"], unit="ms", utc=True)
    if capitalised:
        columns = {name.capitalize(): values for name, values in columns.items()}
    return pd.DataFrame(columns, index=index)


PEERS = {"backtesting": run_backtesting_py, "vectorbt": run_vectorbt}


def main(argv: list[str]) -> int:
    """``python -m bench.peers backtesting|vectorbt DATA.npz``: run one peer, print JSON."""
    if len(argv) != 2 or argv[0] not in PEERS:
        print(f"usage: python -m bench.peers {'|'.join(PEERS)} DATA.npz", file=sys.stderr)
        return 2
    print(json.dumps(PEERS[argv[0]](Path(argv[1]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
