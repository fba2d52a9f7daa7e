"""Indicators: the function library (INDICATOR_FUNCTIONS) and the calculator.

Importing the package registers every built-in indicator in :data:`INDICATORS`.
"""

from candlewick.indicators import library_custom  # noqa: F401  (registers its indicators)
from candlewick.indicators.calculator import (
    IncrementalCalculator,
    IndicatorSpec,
    build_frame,
    compute_indicators,
)
from candlewick.indicators.library import (
    INDICATORS,
    IndicatorInfo,
    Param,
    indicator,
    indicator_info,
)

__all__ = [
    "INDICATORS",
    "IncrementalCalculator",
    "IndicatorInfo",
    "IndicatorSpec",
    "Param",
    "build_frame",
    "compute_indicators",
    "indicator",
    "indicator_info",
]
