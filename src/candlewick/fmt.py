"""How figures are shown: one set of rules for every human view and the JSON's times.

The terminal summary, the HTML report, ``runs list``, ``runs show`` and the covered-window
lines of the data layer all format through these functions, so that one figure reads the same
in each (``docs/metrics.md``, "How figures are shown"):

* fractions as percentages with two decimals, a minus sign for a loss and none for a gain
  (``-99.79%``, ``6.70%``); the max drawdown is a positive fraction, shown as ``99.80%`` under
  the label "Max drawdown";
* counts with thousands separators (``3,114``); ratios with two decimals; money in the quote
  currency with two decimals (four significant digits below 1); exact amounts (prices,
  quantities) as they are, cut to eight decimals;
* times in UTC: ``2024-03-01 00:00`` for people (seconds only when not zero, ``UTC`` written
  once after a time or a window, or in a table's header), ISO 8601 ``2024-03-01T00:00:00Z``
  in JSON next to the ms value;
* a window of bars runs from the first bar's open to the last bar's close:
  ``2024-03-01 00:00 → 2025-08-18 18:25 UTC``;
* a run is named ``<name> · <kind> · <pairs> <timeframe> · <window>``.

Standard library and the pure core only (imported when first needed, so that importing this
module stays cheap for the CLI): the data layer, the reports and the CLI all use it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

Number = float | int | Decimal
Kind = Literal["pct", "ratio", "money", "int", "days", "time", "text", "num"]

#: What an absent or undefined figure shows as.
NONE_TEXT = "—"
#: The arrow between a window's start and end.
ARROW = "→"
#: Between the parts of a run's title.
SEP = " · "
#: What a window's ends are, for labels and notes.
WINDOW_MEANING = "first bar's open → last bar's close"


def _finite(value: object) -> float | None:
    """``value`` as a float, or None when it is None, not a number, NaN or infinite."""
    if value is None or isinstance(value, str) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain_zero(text: str) -> str:
    """``-0.00`` (a tiny loss rounded away, or -0.0) reads as ``0.00``."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return text[1:]
    return text


def pct(fraction: Number | None) -> str:
    """A fraction as a percentage, two decimals: ``-0.99793`` → ``-99.79%``, no plus sign."""
    x = _finite(fraction)
    return NONE_TEXT if x is None else _plain_zero(f"{x * 100:,.2f}") + "%"


def ratio(value: Number | None) -> str:
    """A ratio (Sharpe, profit factor...) with two decimals."""
    x = _finite(value)
    return NONE_TEXT if x is None else _plain_zero(f"{x:,.2f}")


def count(value: Number | None) -> str:
    """A count with thousands separators: ``3,114``."""
    x = _finite(value)
    return NONE_TEXT if x is None else f"{int(x):,}"


def money(value: Number | None) -> str:
    """An amount in quote currency: two decimals with thousands separators; four significant
    digits below 1 (BTC-quoted pairs): ``-9,979.33``, ``0.0001235``."""
    x = _finite(value)
    if x is None:
        return NONE_TEXT
    return _plain_zero(f"{x:,.2f}") if x == 0 or abs(x) >= 1 else f"{x:.4g}"


def number(value: Number | None) -> str:
    """Any other number: two decimals from 1 up, four significant digits below."""
    x = _finite(value)
    if x is None:
        return NONE_TEXT
    return _plain_zero(f"{x:,.2f}") if abs(x) >= 1 else f"{x:.4g}"


def days(value: Number | None) -> str:
    """A duration in days with one decimal: ``534.9 d``."""
    x = _finite(value)
    return NONE_TEXT if x is None else f"{x:,.1f} d"


def exact(value: Decimal) -> str:
    """An exact amount (price, quantity) as plain text, cut to 8 decimals when it has more."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        return f"{value:.8f}"
    return f"{value:f}"


def _ms(value: int | str) -> int:
    """Epoch ms from ms or from the ISO form :func:`iso` writes."""
    if isinstance(value, str):
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    return int(value)


def time(ms: int | str | None) -> str:
    """A UTC time for people, without the zone: ``2024-03-01 00:00`` (seconds when not
    zero). Takes epoch ms or the ISO string of :func:`iso`."""
    from candlewick.core.validation import format_ts

    if ms is None:
        return NONE_TEXT
    return format_ts(_ms(ms))


def time_utc(ms: int | str | None) -> str:
    """:func:`time` followed by ``UTC``: ``2024-03-01 00:00 UTC``."""
    return NONE_TEXT if ms is None else f"{time(ms)} UTC"


def created(ms: int) -> str:
    """When a run was stored, to the minute: ``2026-04-16 00:40`` (seconds cut)."""
    return time(ms - ms % 60_000)


def iso(ms: int) -> str:
    """A time for machines (JSON): ISO 8601 UTC, ``2024-03-01T00:00:00Z``."""
    from candlewick.core.metrics import iso_utc

    return iso_utc(ms)


def bars_window(first_open: int, last_open: int, timeframe: str) -> tuple[int, int]:
    """The window of a series of bars: the first bar's open and the last bar's close (ms)."""
    from candlewick.core.timeframes import timeframe_ms

    return int(first_open), int(last_open) + timeframe_ms(timeframe)


def window(start_ms: int | None, end_ms: int | None, *, zone: bool = True) -> str:
    """A window: ``2024-03-01 00:00 → 2025-08-18 18:25 UTC`` (``zone=False`` leaves ``UTC``
    to a table header). ``start_ms`` is the first bar's open, ``end_ms`` the last bar's close
    (see :func:`bars_window`)."""
    if start_ms is None or end_ms is None:
        return NONE_TEXT
    text = f"{time(start_ms)} {ARROW} {time(end_ms)}"
    return f"{text} UTC" if zone else text


def run_label(name: str, kind: str = "backtest") -> str:
    """What a run is: ``sma_cross · backtest``."""
    return SEP.join(part for part in (name.strip(), kind.strip()) if part)


def run_title(
    label: str | None,
    pairs: Sequence[str],
    timeframe: str,
    start_ms: int | None,
    end_ms: int | None,
) -> str:
    """A run's title, the same in every view:
    ``sma_cross · backtest · BTC/USDT 5m · 2024-03-01 00:00 → 2025-08-18 18:25 UTC``
    (``label`` from :func:`run_label`; left out when None)."""
    what = f"{', '.join(pairs)} {timeframe}"
    return SEP.join(p for p in (label, what, window(start_ms, end_ms)) if p)


def format_value(value: object, kind: Kind) -> str:
    """A figure as display text by its kind; None, NaN and missing values show as ``—``."""
    if value is None:
        return NONE_TEXT
    if kind == "time" and isinstance(value, int | str):
        return time_utc(value)
    if kind == "text" or not isinstance(value, int | float | Decimal):
        return str(value)
    shown = {"pct": pct, "ratio": ratio, "int": count, "days": days, "money": money}
    return shown.get(kind, number)(value)
