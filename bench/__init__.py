"""Candlewick's benchmarks: ``python -m bench`` (or ``./dev.sh bench``) writes docs/benchmarks.md.

Modules: :mod:`bench.measure` (subprocess timing and peak RSS, machine facts, import costs),
:mod:`bench.probes` (what runs inside a child: engine throughput, profile, step timings),
:mod:`bench.peers` (the same strategy in backtesting.py and vectorbt, and an independent
Decimal reference loop), :mod:`bench.portfolio_data` (the 20-pair 1m data set chained from
real files), :mod:`bench.report` and :mod:`bench.analysis` (the Markdown page).

This package's own import stays empty on purpose: child processes run ``python -m bench.peers``
and ``python -m bench.probes``, and their start-up must not pay for anything but what they
measure.
"""
