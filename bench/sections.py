"""Sections of docs/benchmarks.md: the portfolio and the exchange layer (see bench/report.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bench.report import _mb, _phase_table, _profile, _s, _table


def portfolio(r: dict[str, Any]) -> str:
    """The 20-pair portfolio: how its data were built, its runs, where its time goes."""
    p = r.get("portfolio")
    if not p:
        return ""
    ids = {name: f"S{i + 1:02d}" for i, (name, _) in enumerate(p["segments"])}
    seg_rows = [(ids[name], f"`{name}`", f"{bars:,}") for name, bars in p["segments"]]
    order_rows = []
    for pair, parts in p["orders"].items():
        seq = " ".join(ids[name] for name, _, _ in parts)
        last_name, last_bars, _ = parts[-1]
        order_rows.append((pair, len(parts), seq, f"{last_bars:,} of {ids[last_name]}"))
    skipped = "; ".join(p["skipped"]) or "none"
    rows = [
        ("build the series (read the real 1m files)", _s(p["read_s"]), "", "in the bench process"),
        ("write them into the candle store (20 Parquet files)", _s(p["import_s"]), "", "idem"),
        (
            "`candlewick backtest --config bench/configs/portfolio_20x1m.yaml` (saves the run)",
            f"{_s(p['save']['median_s'])} (min {_s(p['save']['min_s'])})",
            _mb(p["save"]["max_rss_mb"]),
            f"{p['trade_count']:,} trades",
        ),
        (
            "the same with `--no-save`",
            f"{_s(p['nosave']['median_s'])} (min {_s(p['nosave']['min_s'])})",
            _mb(p["nosave"]["max_rss_mb"]),
            f"final equity {Decimal(p['final_equity']):.8f} USDT",
        ),
    ]
    ph = p["phases"]
    engine_s = ph["seconds"].get("engine (run_backtest)", 0.0)
    return (
        "## Portfolio: 20 pairs x 525,600 1m bars (10.5 M bars)\n\n"
        "### How the data were built (bench/portfolio_data.py)\n\n"
        "No real 1m file is a year long, so each synthetic pair chains whole real segments:\n\n"
        "1. every 1m file of the shared data folder without a gap is one segment (skipped for "
        f"gaps: {skipped});\n"
        "2. pair k (SYN01/USDT .. SYN20/USDT) takes the segments in its own order, a permutation "
        "seeded with k (`random.Random(k).shuffle`), until it has 525,600 bars; its last segment "
        "is cut;\n"
        "3. each segment after the first is multiplied by one constant so that its first open "
        "equals the previous segment's last close (open, high, low and close alike; volumes "
        "unchanged): inside a segment every return is the real one, only the jumps between "
        "segments are removed;\n"
        "4. timestamps are laid again on one continuous 1m grid from 2024-01-01 00:00 UTC.\n\n"
        "The series are written straight into the benchmark's temporary store (exchange "
        "`bench`), never into the repository. Segments:\n\n"
        + _table(("id", "file", "bars"), seg_rows, "llr")
        + "\n\nOrder of the segments per pair:\n\n"
        + _table(("pair", "segments", "order", "last segment used"), order_rows, "lrll")
        + "\n\n### Results\n\n"
        "Config bench/configs/portfolio_20x1m.yaml: SMA(10)/SMA(30) cross per pair, "
        "`equity_fraction` 0.05, `max_open_positions` 20, stop-loss 2 %, fee 0.1 %.\n\n"
        + _table(("step", "wall (median)", "peak RSS (max)", ""), rows, "lrrl")
        + f"\n\nEngine alone in the step probe: {_s(engine_s)} for {ph['bars']:,} bars = "
        f"{ph['bars'] / engine_s if engine_s else 0:,.0f} bars/s and {ph['trade_count']:,} "
        f"trades ({engine_s / max(ph['trade_count'], 1) * 1e6:.0f} µs per trade).\n\n"
        "### Where the time and memory go (one probe run, saving the run)\n\n"
        + _phase_table(ph, p["save"]["median_s"])
        + _profile(p.get("profile"), "the portfolio", engine_s)
    )


def exchange(r: dict[str, Any]) -> str:
    """The exchange layer: the emulator under load and the gateway's cost per call."""
    x = r.get("exchange")
    if not x:
        return ""
    rows = [
        (f"`{path}`", f"{x[key]['requests']:,}", f"{x[key]['per_s']:,.0f}",
         f"{x[key]['p50_ms']:.1f} ms", f"{x[key]['p99_ms']:.1f} ms")
        for key, path in (
            ("ticker", "GET /api/v3/ticker/24hr?symbol=BTCUSDT"),
            ("klines", "GET /api/v3/klines?symbol=BTCUSDT&interval=1m&limit=500"),
        )
    ]  # fmt: skip
    o, g = x["overhead"], x["gateway_alone"]
    return (
        "## Exchange layer\n\n"
        "The emulator (`candlewick emulator`, its own process, replaying BTC/USDT and ETH/USDT "
        f"1m candles) under {x['clients']} concurrent HTTP connections from one client "
        "process on the same 2-core machine (bench/exchange.py):\n\n"
        + _table(("endpoint", "requests", "requests/s", "p50", "p99"), rows, "lrrrr")
        + "\n\n"
        f"Gateway overhead: `fetch_ticker` through the gateway against the emulator, "
        f"{o['calls']} calls interleaved with the same call straight through ccxt: median "
        f"{o['gateway_ms']:.2f} ms against {o['ccxt_ms']:.2f} ms, "
        f"**{o['overhead_us']:.0f} µs per call** for budgets, header correction and error "
        f"translation. Against an in-memory client that answers at once, the gateway alone "
        f"costs {g['per_call_us']:.1f} µs per call ({g['calls']:,} calls)."
    )
