"""Registry: names to plain functions; snapshot/restore and removing a module's functions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from candlewick.core.registry import Registry


def make(module: str) -> Callable[[], int]:
    def fn() -> int:
        return 1

    fn.__module__ = module
    return fn


def test_a_taken_name_cannot_be_replaced_and_unknown_names_suggest_close_ones() -> None:
    reg: Registry[Callable[[], int]] = Registry("setup")
    reg.register("ma_cross")(make("a"))
    with pytest.raises(ValueError, match="already registered"):
        reg.register("ma_cross")(make("b"))
    with pytest.raises(KeyError, match="Did you mean 'ma_cross'"):
        reg.entry("ma_cros")


def test_snapshot_restore_and_unregister_module() -> None:
    reg: Registry[Callable[[], int]] = Registry("filter")
    builtin, plugin = make("candlewick.signals.filters"), make("candlewick_plugin_x")
    reg.register("volume")(builtin)
    reg.register("mine")(plugin)
    saved = reg.snapshot()
    assert reg.unregister_module("candlewick_plugin_x") == ["mine"]
    assert reg.names() == ["volume"]
    reg.register("mine")(make("candlewick_plugin_x"))  # a fresh copy may take the name again
    reg.register("other")(make("elsewhere"))
    reg.restore(saved)
    assert reg.names() == ["mine", "volume"] and reg.get("mine") is plugin
    saved["gone"] = saved["mine"]  # the snapshot is a copy: changing it changes nothing
    assert "gone" not in reg
