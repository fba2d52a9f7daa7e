"""A backtest (or a stored run) as one JSON document.

Exact amounts (Decimals: prices, quantities, cash, fees, P&L of trades) are strings, so no
digit is lost; metrics are numbers (see ``docs/metrics.md``). Every timestamp appears twice:
``*_ts`` in ms since the epoch (UTC) and ``*_time`` as ISO-8601 UTC (:func:`stamp`); a run's
window ends at its last bar's close, as in every other view. Non-finite floats are written as
null, so the output is strict JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from candlewick import fmt
from candlewick.atomic import write_text_atomic
from candlewick.core.metrics import compute_metrics, exit_reason_stats, per_pair_metrics
from candlewick.core.types import BacktestResult, RunRecord, Trade
from candlewick.report import record_window, status_banner

SCHEMA = "candlewick.report/2"


def _default(value: Any) -> Any:
    """JSON encoding of the types a config or a result may hold."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r}")


def _clean(value: Any) -> Any:
    """Replace non-finite floats by None, recursively (strict JSON has no NaN/Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def stamp(prefix: str, ms: int | None) -> dict[str, Any]:
    """A time for JSON: ``{prefix}_ts`` (ms UTC) and ``{prefix}_time`` (ISO 8601), None both
    when there is none."""
    return {f"{prefix}_ts": ms, f"{prefix}_time": fmt.iso(ms) if ms is not None else None}


def trade_dict(number: int, trade: Trade) -> dict[str, Any]:
    """One trade with exact amounts as strings and its derived P&L, return and fees."""
    return {
        "number": number,
        "pair": trade.pair,
        **stamp("signal", trade.signal_ts),
        **stamp("entry", trade.entry_ts),
        **stamp("exit", trade.exit_ts),
        "entry_price": str(trade.entry_price),
        "exit_price": str(trade.exit_price),
        "qty": str(trade.qty),
        "qty_net": str(trade.qty_net),
        "cost": str(trade.cost),
        "proceeds": str(trade.proceeds),
        "entry_fee": str(trade.entry_fee),
        "exit_fee": str(trade.exit_fee),
        "fees_quote": str(trade.fees_quote),
        "pnl": str(trade.pnl),
        "return_pct": trade.return_pct,
        "exit_reason": str(trade.exit_reason),
        "bars_held": trade.bars_held,
    }


def report_dict(
    source: RunRecord | BacktestResult,
    metrics: Mapping[str, Any] | None = None,
    per_pair: Sequence[Mapping[str, Any]] | None = None,
    *,
    include_curve: bool = True,
    status: str = "ok",
    checks: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as plain Python data (what :func:`to_json` serialises).

    ``metrics`` and ``per_pair`` are computed from the result when not given (a run record's
    stored metrics are used when it has any). ``include_curve`` adds the equity curve
    (one value per bar: ~60 bytes a bar). ``status`` is the run's (``ok`` or the check it
    failed, then ``warning`` says so) and ``checks`` what was checked and found.
    """
    record = source if isinstance(source, RunRecord) else None
    result = source.result if isinstance(source, RunRecord) else source
    if metrics is None:
        metrics = record.metrics if record is not None and record.metrics else None
    doc: dict[str, Any] = {"schema": SCHEMA, "status": status}
    banner = status_banner(status, checks)
    if banner is not None:
        doc["warning"] = banner
    if checks is not None:
        doc["checks"] = dict(checks)
    if record is not None:
        start, end = record_window(record)
        doc["run"] = {
            "run_id": record.run_id,
            "kind": record.kind,
            "name": record.name,
            **stamp("created", record.created_at),
            "exchange": record.exchange,
            "pairs": list(record.pairs),
            "timeframe": record.timeframe,
            **stamp("start", start),
            **stamp("end", end),
            "config": record.config,
        }
    doc["result"] = {
        "pairs": list(result.pairs),
        "timeframe": result.timeframe,
        "quote": result.quote,
        "initial_cash": str(result.initial_cash),
        "final_cash": str(result.final_cash),
        "fees_paid": str(result.fees_paid),
        "bars": int(np.asarray(result.timestamp).size),
        **stamp("halted_at", result.halted_at),
        "meta": dict(result.meta),
    }
    doc["metrics"] = dict(metrics if metrics is not None else compute_metrics(result))
    doc["per_pair"] = [dict(r) for r in (per_pair or per_pair_metrics(result))]
    doc["exit_reasons"] = exit_reason_stats(result.trades)
    doc["trades"] = [trade_dict(i, t) for i, t in enumerate(result.trades, start=1)]
    doc["rejections"] = [
        {"pair": r.pair, **stamp("signal", r.signal_ts), "reason": r.reason}
        for r in result.rejections
    ]
    if include_curve:
        doc["equity_curve"] = {
            "timestamp": np.asarray(result.timestamp, dtype=np.int64).tolist(),
            "equity": np.asarray(result.equity, dtype=np.float64).tolist(),
            "exposure": np.asarray(result.exposure, dtype=np.float64).tolist(),
        }
    cleaned: dict[str, Any] = _clean(doc)
    return cleaned


def to_json(
    source: RunRecord | BacktestResult,
    metrics: Mapping[str, Any] | None = None,
    per_pair: Sequence[Mapping[str, Any]] | None = None,
    *,
    include_curve: bool = True,
    indent: int | None = None,
    status: str = "ok",
    checks: Mapping[str, Any] | None = None,
) -> str:
    """The report of a run record, or of a result and its metrics, as a strict JSON string."""
    doc = report_dict(
        source, metrics, per_pair, include_curve=include_curve, status=status, checks=checks
    )
    return json.dumps(doc, default=_default, indent=indent, allow_nan=False, ensure_ascii=False)


def write_json(
    path: Path,
    source: RunRecord | BacktestResult,
    metrics: Mapping[str, Any] | None = None,
    per_pair: Sequence[Mapping[str, Any]] | None = None,
    *,
    include_curve: bool = True,
    status: str = "ok",
    checks: Mapping[str, Any] | None = None,
) -> Path:
    """Write :func:`to_json` to ``path`` (parent folders are created) and return the path.

    The write is atomic: a reader (or a crash) sees the previous file or the whole new one.
    """
    text = to_json(
        source, metrics, per_pair, include_curve=include_curve, status=status, checks=checks
    )
    text += "\n"
    return write_text_atomic(Path(path), text)
