"""Trading strategy setups, filters and the signal generator (pure core, no I/O).

Importing this package registers the built-in setups and filters. A user adds their own in
one file with the :func:`setup` and :func:`filter_` decorators (see
``examples/custom_setup.py`` and ``docs/strategies.md``).
"""

from candlewick.signals.filters import FILTERS, FilterFn, FilterVerdict, filter_, verdict
from candlewick.signals.generator import (
    Decision,
    FilterCheck,
    FilterSpec,
    SetupSpec,
    Signals,
    decisions_table,
    generate_signals,
)
from candlewick.signals.lookahead import (
    LookaheadDiff,
    LookaheadReport,
    check_lookahead,
    truncating,
)
from candlewick.signals.setups import (
    SETUPS,
    Params,
    SetupFn,
    SetupSignals,
    choice,
    column,
    crossed_above,
    crossed_below,
    number,
    ohlcv,
    previous,
    setup,
)

__all__ = [
    "FILTERS",
    "SETUPS",
    "Decision",
    "FilterCheck",
    "FilterFn",
    "FilterSpec",
    "FilterVerdict",
    "LookaheadDiff",
    "LookaheadReport",
    "Params",
    "SetupFn",
    "SetupSignals",
    "SetupSpec",
    "Signals",
    "check_lookahead",
    "choice",
    "column",
    "crossed_above",
    "crossed_below",
    "decisions_table",
    "filter_",
    "generate_signals",
    "number",
    "ohlcv",
    "previous",
    "setup",
    "truncating",
    "verdict",
]
