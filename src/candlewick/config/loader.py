"""Loading configuration files, and turning every mistake into a message a person can act on.

Errors name the file, the field (``risk.stop_loss_pct``, ``indicators[1].name``), the value
found and the fix; they are :class:`~candlewick.errors.ConfigError` and never a traceback.
The file itself is never modified.
"""

from __future__ import annotations

import copy
import difflib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from candlewick.config.models import TradingConfig, UserConfig
from candlewick.config.pipeline_check import check_pipeline
from candlewick.config.secrets import find_secrets
from candlewick.config.yaml_reader import FieldPath, YamlDocument, load_yaml_document
from candlewick.errors import ConfigError
from candlewick.plugins import execute_module, plugin_module_name

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> dict[str, Any]:
    """The YAML mapping in ``path``; ConfigError on a missing, oversized or malformed file."""
    data: dict[str, Any] = read_document(path).data
    return data


def read_document(path: Path) -> YamlDocument:
    """The YAML document in ``path`` (a mapping at the top) with the line of each field."""
    document = load_yaml_document(path)
    if not isinstance(document.data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys at the top, found {type(document.data).__name__}"
        )
    return document


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names allowed at the parent of ``loc`` (for 'did you mean')."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return sorted(current.model_fields) if current is not None else []


def format_validation_error(
    source: str,
    model: type[BaseModel],
    exc: ValidationError,
    lines: Mapping[FieldPath, int] | None = None,
) -> str:
    """One line per problem: where (field and line), what was found, what to do."""
    problems: list[str] = []
    seen: set[tuple[int | str, ...]] = set()
    for err in exc.errors():
        loc = _without_union_tags(tuple(err["loc"]))
        if loc in seen:  # one line per field, not one per member of a union type
            continue
        seen.add(loc)
        field = _line_of(loc, lines or {}) + (_field_path(loc) or "(top level)")
        value = err.get("input")
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(f"  - {field}: unknown key. {hint}Allowed here: {', '.join(allowed)}")
        elif kind == "missing":
            problems.append(f"  - {field}: required, but missing: add it")
        else:
            message = err["msg"].removeprefix("Value error, ")
            found = "" if isinstance(value, dict | list) else f" (found {_short(value)})"
            problems.append(f"  - {field}: {message}{found}")
    return problem_report(source, "problem(s) in the configuration", problems)


#: At most this many problems are listed, so that a report fits on one screen.
MAX_PROBLEMS_SHOWN = 12


def problem_report(source: str, what: str, problems: list[str]) -> str:
    """``source: N what:`` and the first problems, one per line."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(shown):
        shown.append(f"  ... and {len(problems) - len(shown)} more: fix these first")
    return "\n".join([f"{source}: {len(problems)} {what}:", *shown])


def _line_of(loc: tuple[int | str, ...], lines: Mapping[FieldPath, int]) -> str:
    """``line N, `` of the nearest field of ``loc`` written in the file, or ""."""
    for end in range(len(loc), 0, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return f"line {line}, " if line else ""  # 0: set from the command line
    return ""


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_UNION_TAGS = ("float", "int", "str", "bool", "list", "none", "constrained-str", "decimal", "date")


def _without_union_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Drop pydantic's union-member tags (``.float``, ``.list[str]``) from an error location."""
    while loc and isinstance(loc[-1], str) and loc[-1].split("[")[0] in _UNION_TAGS:
        loc = loc[:-1]
    return loc


def parse_model(
    model: type[M],
    data: dict[str, Any],
    source: str,
    lines: Mapping[FieldPath, int] | None = None,
) -> M:
    """Validate ``data`` as ``model``; ConfigError with one clear line per problem.

    ``lines`` (from :func:`read_document`) adds the line of each field to the messages.
    """
    secrets = find_secrets(data)
    if secrets:
        problems = [
            f"  - {_line_of(where, lines or {})}{_field_path(where)}: secrets must not be "
            f"written in config files ({why})"
            for where, why in secrets
        ]
        raise ConfigError(
            problem_report(source, "secret(s) written in the file", problems)
            + "\n  Put each secret in an environment variable (in the shell, or in a git-ignored "
            ".env: see .env.example) and write the variable's name instead, as accounts.<name>."
            "api_key_env / api_secret_env do."
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, model, exc, lines)) from None


@dataclass(frozen=True, slots=True)
class Override:
    """A config field set from the command line: ``option`` (e.g. ``--fee``) sets ``field``
    (a path such as ``("fees", "taker")``) to ``value``, before validation."""

    option: str
    field: tuple[str, ...]
    value: Any


def apply_overrides(data: dict[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """A copy of the raw config ``data`` with each override's field set (parents created)."""
    out = copy.deepcopy(data)
    for override in overrides:
        node = out
        for key in override.field[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[override.field[-1]] = override.value
    return out


def load_trading_config(path: Path, overrides: Sequence[Override] = ()) -> TradingConfig:
    """Read, validate and cross-check a trading config file: the checks ``backtest`` runs.

    ``overrides`` (command-line options) replace fields before validation, so they meet every
    bound the file does; a problem they cause names the option. Registered names and
    parameters are checked, then the strategy is built and run on sample candles as the
    backtest would (:func:`~candlewick.config.pipeline_check.check_pipeline`).
    """
    document = read_document(path)
    data, lines = document.data, document.lines
    if overrides:
        data = apply_overrides(data, overrides)
        # the file's lines do not locate a value set from the command line: line 0, "none"
        cli: list[FieldPath] = [o.field for o in overrides]
        lines = {k: v for k, v in lines.items() if not any(k[: len(f)] == f for f in cli)}
        lines.update(dict.fromkeys(cli, 0))
    try:
        config = parse_model(TradingConfig, data, str(path), lines)
    except ConfigError as exc:
        if not overrides:
            raise
        given = ", ".join(f"{o.option} sets {'.'.join(o.field)}" for o in overrides)
        raise ConfigError(f"{exc}\n  From the command line: {given}") from None
    load_plugins(config, base_dir=path.parent)
    check_references(config, str(path))
    check_pipeline(config, str(path))
    return config


def load_user_config(path: Path) -> UserConfig:
    """Read and validate a user file (accounts name environment variables, never secrets)."""
    document = read_document(path)
    return parse_model(UserConfig, document.data, str(path), document.lines)


def load_plugins(config: TradingConfig, base_dir: Path) -> None:
    """Import the user's plugin files so their setups and filters register themselves."""
    for i, name in enumerate(config.plugins):
        path = (base_dir / name).resolve()
        if not path.is_file():
            raise ConfigError(f"plugins[{i}]: {name!r}: no such file (relative to {base_dir})")
        module_name = plugin_module_name(path)
        if module_name in sys.modules:
            continue
        if path.suffix != ".py":
            raise ConfigError(f"plugins[{i}]: {name!r} is not an importable Python file (.py)")
        try:
            execute_module(module_name, path)
        except Exception as exc:
            raise ConfigError(
                f"plugins[{i}]: {name!r} failed to import: {type(exc).__name__}: {exc}"
            ) from None


def check_references(config: TradingConfig, source: str) -> None:
    """Every indicator, setup, filter and sizing name must be registered."""
    from candlewick.errors import IndicatorError
    from candlewick.indicators.library import INDICATORS, indicator_info
    from candlewick.risk.sizing import SIZING
    from candlewick.signals.filters import FILTERS
    from candlewick.signals.setups import SETUPS

    problems: list[str] = []

    def check(field: str, name: str, names: list[str], kind: str) -> None:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                f"  - {field}: unknown {kind} {name!r}. {hint}Known: {', '.join(names)}"
            )

    for i, ind in enumerate(config.indicators):
        check(f"indicators[{i}].name", ind.name, INDICATORS.names(), "indicator")
        if ind.name not in INDICATORS:
            continue
        info = indicator_info(ind.name)
        try:
            info.resolve(ind.params)
        except IndicatorError as exc:
            problems.append(f"  - indicators[{i}].params: {exc}")
        if ind.source is not None and len(info.inputs) != 1:
            problems.append(
                f"  - indicators[{i}].source: {ind.name!r} takes {', '.join(info.inputs)}, not "
                "a single series; remove source"
            )
    for i, setup in enumerate(config.setups):
        check(f"setups[{i}].name", setup.name, SETUPS.names(), "setup")
        if setup.name in SETUPS:
            problems += _unknown_params(f"setups[{i}]", SETUPS.entry(setup.name).meta, setup.params)
    for i, filt in enumerate(config.filters):
        check(f"filters[{i}].name", filt.name, FILTERS.names(), "filter")
        if filt.name in FILTERS:
            problems += _unknown_params(f"filters[{i}]", FILTERS.entry(filt.name).meta, filt.params)
    check("sizing.method", config.sizing.method, SIZING.names(), "sizing method")
    if config.sizing.method in SIZING:
        problems += _unknown_params(
            "sizing", SIZING.entry(config.sizing.method).meta, config.sizing.params
        )
        problems += _sizing_values(config)
    risk = config.risk
    if config.sizing.method == "risk_percent" and not (risk.stop_loss_pct or risk.stop_loss_atr):
        problems.append(
            "  - sizing.method: 'risk_percent' sizes by the stop distance: set "
            "risk.stop_loss_pct or risk.stop_loss_atr"
        )
    if risk.atr_indicator is not None:
        atr = next(ind for ind in config.indicators if ind.id == risk.atr_indicator)
        if atr.name != "atr":
            problems.append(
                f"  - risk.atr_indicator: {atr.id!r} is a {atr.name!r} indicator; it must be 'atr'"
            )
    if problems:
        raise ConfigError(problem_report(source, "problem(s)", problems))


def _unknown_params(where: str, meta: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """Problems for params a setup or filter does not declare in its ``defaults``."""
    defaults = meta.get("defaults")
    if defaults is None:
        return []
    out = []
    for key in sorted(set(params) - set(defaults)):
        close = difflib.get_close_matches(key, list(defaults), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(f"{k} (default {v!r})" for k, v in defaults.items()) or "none"
        out.append(f"  - {where}.params.{key}: unknown parameter. {hint}Its parameters: {known}")
    return out


def _sizing_values(config: TradingConfig) -> list[str]:
    """Problems with sizing parameter values: run the rule once on a sample account."""
    from decimal import Decimal

    from candlewick.errors import RiskError
    from candlewick.risk.sizing import SIZING, SizingContext

    sample = SizingContext(
        cash=Decimal(1000), equity=Decimal(1000), price=1.0, stop_distance=0.01, closed_returns=()
    )
    try:
        SIZING.get(config.sizing.method)(sample, config.sizing.params)
    except RiskError as exc:
        return [f"  - {exc}"]
    return []
