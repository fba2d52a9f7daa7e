"""Reading a YAML config file within bounds: size, nesting, alias expansion, duplicate keys.

A config is a few kilobytes of plain YAML. Whatever else a file holds is refused with the
file, the line and the fix, in time proportional to the file's size:

* more than :data:`MAX_BYTES` bytes (read no further than that);
* bytes that are not UTF-8 (a leading byte-order mark is allowed);
* values nested deeper than :data:`MAX_DEPTH` levels, counted through aliases;
* aliases (``*name``) that expand to more than :data:`MAX_NODES` values (a "billion laughs"
  alias bomb), or that refer to themselves;
* a key written twice in one mapping (YAML would silently keep the last one); a merge key
  (``<<: *base``) may still be overridden, as YAML intends;
* a number more than :data:`MAX_NUMBER_CHARS` characters long, a date that does not exist.

The tree of nodes is checked before any Python object is built, with each aliased node
measured once, so the check is linear in the file's size whatever the aliases expand to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.error import Mark
from yaml.events import Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from candlewick.errors import ConfigError

#: Largest file read, in bytes (1 MiB; the example configs are under 2 KiB).
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and lists, aliases expanded (a config needs about 5).
MAX_DEPTH = 32
#: Most values (scalars, lists, mappings) the document may expand to, aliases expanded.
MAX_NODES = 20_000

#: Where a value sits in the document: mapping keys and list indexes from the top.
FieldPath = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_CHECKED_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", _TIMESTAMP_TAG)
#: Longest number written (a 64-character number is far past any bound of a config).
MAX_NUMBER_CHARS = 64
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed document and the line (1-based) of each key and list item in it."""

    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)


class _RefusedError(Exception):
    """A bound was crossed at ``mark``."""

    def __init__(self, message: str, mark: Any) -> None:  # mark: a yaml Mark or None
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH before Python recursion does."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                peek: Callable[[], Event] = self.peek_event  # untyped in the stubs
                raise _RefusedError(_too_deep(), peek().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_deep() -> str:
    return (
        f"values nested deeper than {MAX_DEPTH} levels (aliases included); a config needs a "
        "few levels: remove the extra brackets"
    )


def load_yaml_document(path: Path) -> YamlDocument:
    """Parse ``path`` within the bounds above; ConfigError naming the file, line and fix."""
    text = _decode(path, _read_bytes(path))
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None)
        measure = _Measure()
        measure.visit(node, 1)
        for scalar in measure.scalars:
            _check_scalar(loader, scalar)
        lines: dict[FieldPath, int] = {}
        _collect_lines(node, (), lines)
        return YamlDocument(loader.construct_document(node), lines)
    except _RefusedError as exc:
        raise ConfigError(f"{path}:{_where(exc.mark)} {exc.message}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{path}:{_where(getattr(exc, 'problem_mark', None))} "
            f"YAML syntax error: {_problem(exc)}"
        ) from None
    except RecursionError:  # a safety net: the bounds above keep far from the limit
        raise ConfigError(f"{path}: {_too_deep()}") from None
    finally:
        loader.dispose()


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (check the path)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"{path}: larger than 1 MiB; a config is a few kilobytes: check that this is the "
            "config file"
        )
    return raw


def _decode(path: Path, raw: bytes) -> str:
    raw = raw.removeprefix(_BOM)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{path}: line {line}, column {column}: not UTF-8 text (byte "
            f"0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None


def _where(mark: Any) -> str:
    return f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start:
        problem += f" ({context} started at line {start.line + 1}, column {start.column + 1})"
    return str(problem)


class _Measure:
    """One pass over the node graph: depth and expanded size (each shared node measured once),
    self-referring aliases and duplicate keys."""

    def __init__(self) -> None:
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self.active: set[int] = set()
        self.scalars: list[ScalarNode] = []  # each distinct number or timestamp once

    def visit(self, node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in self.active:
            raise _RefusedError(
                "an alias refers to itself (a recursive value): write the value out",
                node.start_mark,
            )
        known = self.sizes.get(key)
        if known is None:
            self.active.add(key)
            known = self._measure(node, depth)
            self.active.discard(key)
            self.sizes[key] = known
        if depth + known[1] - 1 > MAX_DEPTH:
            raise _RefusedError(_too_deep(), node.start_mark)
        return known

    def _measure(self, node: Node, depth: int) -> tuple[int, int]:
        children: list[Node] = []
        if isinstance(node, MappingNode):
            _check_duplicates(node)
            for key_node, value_node in node.value:
                children += [key_node, value_node]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, ScalarNode) and node.tag in _CHECKED_TAGS:
            self.scalars.append(node)
        size, height = 1, 1
        for child in children:
            child_size, child_height = self.visit(child, depth + 1)
            size, height = size + child_size, max(height, child_height + 1)
            if size > MAX_NODES:
                raise _RefusedError(self._too_many(), node.start_mark)
        return size, height

    def _too_many(self) -> str:
        if len(self.sizes) + len(self.active) >= MAX_NODES:
            return f"more than {MAX_NODES:,} values; a config is far smaller: check the file"
        return (
            f"aliases expand to more than {MAX_NODES:,} values (an alias bomb?): write the "
            "values out or use fewer aliases"
        )


def _check_scalar(loader: _BoundedLoader, node: ScalarNode) -> None:
    """Refuse a number too long to be sane or a date that does not exist, at its line."""
    if node.tag != _TIMESTAMP_TAG and len(node.value) > MAX_NUMBER_CHARS:
        raise _RefusedError(
            f"a number {len(node.value)} characters long: write a sane value", node.start_mark
        )
    try:
        loader.construct_object(node)
    except (ValueError, OverflowError) as exc:
        kind = "date or time" if node.tag == _TIMESTAMP_TAG else "number"
        hint = "; write YYYY-MM-DD" if node.tag == _TIMESTAMP_TAG else ""
        raise _RefusedError(
            f"{node.value!r} is not a valid {kind}: {exc}{hint}", node.start_mark
        ) from None


def _check_duplicates(node: MappingNode) -> None:
    seen: dict[tuple[str, str], Mark] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = (key_node.tag, key_node.value)
        first = seen.get(key)
        if first is not None:
            raise _RefusedError(
                f"duplicate key {key_node.value!r} (first at line {first.line + 1}): YAML would "
                "keep only the last one; remove one of them",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark


def _collect_lines(node: Node, path: FieldPath, lines: dict[FieldPath, int]) -> None:
    """The line of every key and list item, by its path (aliases expanded: bounded above)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                where = (*path, key_node.value)
                lines.setdefault(where, key_node.start_mark.line + 1)
                _collect_lines(value_node, where, lines)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault((*path, i), item.start_mark.line + 1)
            _collect_lines(item, (*path, i), lines)
