"""Users' plugin files: loading them, and running a block with freshly executed copies.

A plugin is a Python file listed under a trading config's ``plugins:``; importing it runs its
decorators, which register its indicators, setups and filters. :func:`fresh_plugins` lets the
lookahead check and the config check run the strategy on copies whose module state (globals,
closures, caches) starts as at import, leaving the backtest's own plugin state untouched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from candlewick.errors import StrategyError

if TYPE_CHECKING:
    from candlewick.config.models import TradingConfig
    from candlewick.core.registry import Registry

__all__ = ["execute_module", "fresh_plugins", "plugin_module_name", "plugin_modules"]


def plugin_module_name(path: Path) -> str:
    """The module name a plugin file is imported as: stable across processes."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"candlewick_plugin_{path.stem}_{digest}"


def execute_module(name: str, path: Path) -> ModuleType:
    """Execute the Python file ``path`` as a new module ``name``, put in ``sys.modules``.

    Raises ImportError when the file is not importable; whatever the file raises passes
    through (the module is then taken out of ``sys.modules`` again).
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        raise
    return module


def _registries() -> tuple[Registry[Any], ...]:
    """The registries a plugin can add to that the signal pipeline reads."""
    from candlewick.indicators.library import INDICATORS
    from candlewick.signals.filters import FILTERS
    from candlewick.signals.setups import SETUPS

    return (INDICATORS, SETUPS, FILTERS)


def plugin_modules(config: TradingConfig) -> tuple[str, ...]:
    """The modules outside Candlewick that define an indicator, setup or filter ``config`` uses
    (its plugin files, or any module that registered one), each with its source file."""
    indicators, setups, filters = _registries()
    used = [
        *(indicators.get(i.name) for i in config.indicators if i.name in indicators),
        *(setups.get(s.name) for s in config.setups if s.name in setups),
        *(filters.get(f.name) for f in config.filters if f.name in filters),
    ]
    names = dict.fromkeys(fn.__module__ for fn in used)
    return tuple(
        name
        for name in names
        if name.split(".")[0] != "candlewick"
        and getattr(sys.modules.get(name), "__file__", None) is not None
    )


@contextmanager
def fresh_plugins(modules: Sequence[str]) -> Iterator[None]:
    """Run the block with freshly executed copies of the plugin ``modules``.

    Each module's file is executed again in a new module object (so its globals, closures,
    caches and function attributes start as at import) that replaces it in ``sys.modules`` and
    whose decorators register its functions in place of the old ones. Afterwards the original
    modules and registrations are put back. State kept outside the module (another module, a
    file) is not reset. Not thread-safe: the registries are process-wide.
    """
    if not modules:
        yield
        return
    registries = _registries()
    saved = [registry.snapshot() for registry in registries]
    originals = {name: sys.modules[name] for name in modules}
    try:
        for registry in registries:
            for name in originals:
                registry.unregister_module(name)
        for name, original in originals.items():
            path = Path(str(original.__file__))
            try:
                execute_module(name, path)
            except Exception as exc:
                raise StrategyError(
                    f"plugin {path} failed when executed again from a fresh copy (the "
                    f"lookahead and config checks run each pass on one): "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        yield
    finally:
        for registry, entries in zip(registries, saved, strict=True):
            registry.restore(entries)
        sys.modules.update(originals)
