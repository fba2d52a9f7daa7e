"""Reading config YAML: hostile files are refused in bounded time with the file, line and fix."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from candlewick.config.loader import load_trading_config, read_yaml
from candlewick.errors import ConfigError
from tests.unit.test_config import EXAMPLE

HEAD = "name: x\npairs: [BTC/USDT]\nsetups: [{name: ma_cross}]\n"


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block takes longer than ``seconds``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def alias_bomb(levels: int) -> str:
    """The billion laughs: each level repeats the previous one ten times."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    return path


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, (HEAD + alias_bomb(9)).encode())
    with within(5), pytest.raises(ConfigError) as err:
        load_trading_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "aliases expand to more than" in message and "line" in message


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, (HEAD + "loop: &loop [1, *loop]\n").encode())
    with within(5), pytest.raises(ConfigError, match="refers to itself"):
        load_trading_config(path)


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        "setups:\n  - name: ma_cross\n    params: {fast: sma_fast, slow: sma_slow}",
        "setups:\n  - name: ma_cross\n    params: &cross {fast: sma_fast, slow: sma_slow}\n"
        "  - name: ma_cross\n    params: *cross",
    )
    assert "*cross" in text
    assert len(load_trading_config(write_bytes(tmp_path, text.encode())).setups) == 2


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"pairs: [BTC/USDT]\nname: caf\xe9\n")
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    message = str(err.value)
    assert str(path) in message and "line 2" in message
    assert "not UTF-8" in message and "save the file as UTF-8" in message


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert load_trading_config(path).name == "sma_cross"


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_is_refused(tmp_path: Path, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    path = write_bytes(tmp_path, f"name: {opening * 5000}{closing * 5000}\n".encode())
    with within(5), pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert "nested deeper than 32 levels" in str(err.value)
    assert "line 1" in str(err.value)


def test_deep_nesting_through_aliases_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 400)]
    path = write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    with within(5), pytest.raises(ConfigError, match="nested deeper than 32 levels"):
        read_yaml(path)


def test_duplicate_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, b"name: a\npairs: [BTC/USDT]\nrisk:\n  cooldown_bars: 1\nname: b\n"
    )
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    message = str(err.value)
    assert "line 5" in message and "duplicate key 'name'" in message
    assert "first at line 1" in message


def test_duplicate_nested_key_is_refused(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"risk:\n  cooldown_bars: 1\n  cooldown_bars: 2\n")
    with pytest.raises(ConfigError, match=r"line 3.*duplicate key 'cooldown_bars'"):
        read_yaml(path)


def test_merge_keys_may_override(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"base: &b {n: 1, k: 2}\nfilter:\n  <<: *b\n  k: 3\n")
    assert read_yaml(path)["filter"] == {"n": 1, "k": 3}


def test_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"name: x\n" + b"# padding\n" * 200_000)
    with within(5), pytest.raises(ConfigError, match="larger than 1 MiB"):
        read_yaml(path)


def test_field_errors_carry_their_line(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("  taker: 0.001", "  taker: -1")
    with pytest.raises(ConfigError) as err:
        load_trading_config(write_bytes(tmp_path, text.encode()))
    line = text.splitlines().index("  taker: -1") + 1
    assert f"line {line}, fees.taker:" in str(err.value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1" * 5000, "a number 5000 characters long"),
        ("-" + "9" * 80, "a number 81 characters long"),
        ("2024-02-30", "'2024-02-30' is not a valid date or time: day is out of range for month"),
        (
            "2024-13-01 10:00:00",
            "'2024-13-01 10:00:00' is not a valid date or time: month must be in 1..12",
        ),
    ],
)
def test_unreadable_scalars_are_refused_with_their_line(
    tmp_path: Path, value: str, fragment: str
) -> None:
    path = write_bytes(tmp_path, f"name: x\nbacktest:\n  start: {value}\n".encode())
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    assert f"{path}: line 3, column 10: {fragment}" in str(err.value)
