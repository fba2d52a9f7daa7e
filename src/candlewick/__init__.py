"""Candlewick: a modular crypto trading bot framework."""

__version__ = "0.1.0"
