"""candlewick.fmt: the one way each kind of figure is shown (docs/metrics.md, "How figures are
shown")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from candlewick import fmt

MAR_1_2024 = 1_709_251_200_000  # 2024-03-01 00:00 UTC
LAST_OPEN = 1_755_541_200_000  # 2025-08-18 18:20 UTC: the reference run's last 5m bar
LAST_CLOSE = LAST_OPEN + 300_000  # 18:25, when it closes


def test_percentages_have_two_decimals_and_a_sign_only_for_losses() -> None:
    assert fmt.pct(-0.9979334001496607) == "-99.79%"
    assert fmt.pct(0.9979727566794496) == "99.80%"  # the max drawdown: positive, as in JSON
    assert fmt.pct(0.067) == "6.70%"  # no plus sign
    assert fmt.pct(12.5) == "1,250.00%"
    assert fmt.pct(Decimal("0.05")) == "5.00%"
    assert fmt.pct(-0.0) == "0.00%" and fmt.pct(-0.00001) == "0.00%"  # no "-0.00%"
    assert fmt.pct(None) == fmt.pct(float("nan")) == fmt.pct(float("inf")) == "—"


def test_counts_ratios_money_days_and_exact_amounts() -> None:
    assert fmt.count(3114) == "3,114" and fmt.count(154_301.0) == "154,301"
    assert fmt.ratio(-11.942787836438885) == "-11.94" and fmt.ratio(-0.001) == "0.00"
    assert fmt.money(-9979.334001496607) == "-9,979.33"
    assert fmt.money(Decimal("20.66599850339258832892795694")) == "20.67"
    assert fmt.money(0.000123456) == "0.0001235"  # BTC-quoted amounts keep 4 digits
    assert fmt.money(0) == "0.00"
    assert fmt.days(534.8923611111111) == "534.9 d"
    assert fmt.number(25.583815028901736) == "25.58" and fmt.number(0.123456) == "0.1235"
    assert fmt.exact(Decimal("0.1634586276405924002199499294")) == "0.16345863"
    assert fmt.exact(Decimal("61177.56")) == "61177.56"
    assert fmt.exact(Decimal("0.00100")) == "0.00100"
    for shown in (fmt.count, fmt.ratio, fmt.money, fmt.days, fmt.number):
        assert shown(None) == "—"


def test_times_for_people_and_for_machines() -> None:
    assert fmt.time(MAR_1_2024) == "2024-03-01 00:00"
    assert fmt.time(MAR_1_2024 + 1500) == "2024-03-01 00:00:01"  # seconds only when there
    assert fmt.time("2025-08-18T18:25:00Z") == "2025-08-18 18:25"  # the ISO form is read back
    assert fmt.time_utc(LAST_CLOSE) == "2025-08-18 18:25 UTC"
    assert fmt.time(None) == fmt.time_utc(None) == "—"
    assert fmt.created(1_776_300_012_345) == "2026-04-16 00:40"  # runs stored: to the minute
    assert fmt.iso(LAST_CLOSE) == "2025-08-18T18:25:00Z"


def test_a_window_runs_from_the_first_open_to_the_last_close() -> None:
    assert fmt.bars_window(MAR_1_2024, LAST_OPEN, "5m") == (MAR_1_2024, LAST_CLOSE)
    assert fmt.window(*fmt.bars_window(MAR_1_2024, LAST_OPEN, "5m")) == (
        "2024-03-01 00:00 → 2025-08-18 18:25 UTC"
    )
    assert fmt.window(MAR_1_2024, LAST_CLOSE, zone=False) == "2024-03-01 00:00 → 2025-08-18 18:25"
    assert fmt.window(None, None) == "—"


def test_a_run_is_named_the_same_way_everywhere() -> None:
    label = fmt.run_label("sma_cross", "backtest")
    assert label == "sma_cross · backtest"
    title = fmt.run_title(label, ["BTC/USDT"], "5m", MAR_1_2024, LAST_CLOSE)
    assert title == "sma_cross · backtest · BTC/USDT 5m · 2024-03-01 00:00 → 2025-08-18 18:25 UTC"
    assert fmt.run_title(None, ["BTC/USDT", "ETH/USDT"], "1h", MAR_1_2024, LAST_CLOSE) == (
        "BTC/USDT, ETH/USDT 1h · 2024-03-01 00:00 → 2025-08-18 18:25 UTC"
    )


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.12345, "pct", "12.35%"),
        (None, "pct", "—"),
        (float("nan"), "ratio", "—"),
        (1234567.891, "money", "1,234,567.89"),
        (2596, "int", "2,596"),
        (9.04, "days", "9.0 d"),
        (LAST_CLOSE, "time", "2025-08-18 18:25 UTC"),
        ("2025-08-18T18:25:00Z", "time", "2025-08-18 18:25 UTC"),
        ("signal", "text", "signal"),
        (1.5, "num", "1.50"),
    ],
)
def test_format_value_dispatches_on_the_kind(value: object, kind: fmt.Kind, text: str) -> None:
    assert fmt.format_value(value, kind) == text
