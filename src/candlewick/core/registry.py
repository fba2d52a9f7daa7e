"""A registry of plain functions chosen by name from config: the project's strategy pattern.

Indicators, setups, filters and sizing rules are each a :class:`Registry`. Built-in
functions register themselves at import; a user adds one in a single file with the
registry's decorator. A registry only maps names to pure functions: it holds no per-bot
state, so any number of bots in one process can share it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Entry(Generic[F]):
    """A registered function with the metadata its registry keeps about it."""

    name: str
    func: F
    meta: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[F]):
    """Functions of one kind (``kind`` is "indicator", "setup", ...) keyed by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[F]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[F], F]:
        """Decorator: register the function under ``name`` with optional metadata.

        Registering a second function under a taken name is an error, so that a user's
        file cannot silently replace a built-in.
        """

        def decorate(func: F) -> F:
            if name in self._entries and self._entries[name].func is not func:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = Entry(name, func, dict(meta))
            return func

        return decorate

    def entry(self, name: str) -> Entry[F]:
        """The entry registered as ``name``; KeyError naming close matches otherwise."""
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise KeyError(
                f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(self._entries))}"
            ) from None

    def get(self, name: str) -> F:
        """The function registered as ``name``."""
        return self.entry(name).func

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def snapshot(self) -> dict[str, Entry[F]]:
        """A copy of the whole table, for :meth:`restore` (e.g. around re-executed plugins)."""
        return dict(self._entries)

    def restore(self, snapshot: dict[str, Entry[F]]) -> None:
        """Put back the table :meth:`snapshot` returned, dropping what was registered since."""
        self._entries = dict(snapshot)

    def unregister_module(self, module: str) -> list[str]:
        """Remove every function defined in ``module``; the names removed."""
        gone = [k for k, e in self._entries.items() if getattr(e.func, "__module__", "") == module]
        for key in gone:
            del self._entries[key]
        return gone

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[F]]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
