"""Finding secrets written into a config file: they belong in environment variables.

A key is secret-looking when its name contains secret, password, passphrase, privatekey,
apikey or token (ignoring case, ``_`` and ``-``), unless it ends in ``env``: such a key
names an environment variable (``api_key_env: BINANCE_API_KEY``), which is the way to go.

A string value is secret-looking, wherever it sits, when it holds:

* a PEM block (``-----BEGIN``) or the words ``PRIVATE KEY``;
* a well-known token shape: an AWS access key id (``AKIA...``), a GitHub or Slack token;
* a run of 32 or more characters of the base64 alphabet (letters, digits, ``+/=_-``), with
  no other character inside, that is either hexadecimal with letters and digits (hex API
  secrets, and hashes: configs hold none), or random-looking: letters and digits, at least
  4 bits of entropy per character, and less than half of it made of word-like syllables
  (``TrendFollower``, ``pullback``). A run with ``/`` is taken as one only when it looks
  like base64 (a ``+`` or ``=`` padding); otherwise each part between ``/`` is judged alone,
  so that paths are not taken for secrets.

Pair names, indicator ids, paths, dates, UUIDs and long CamelCase or snake_case names pass.
A random 64-character API key (Binance's shape) is caught 998 times in 1,000, a base64 secret
(Kraken's) 9,999 in 10,000, a 32-character one 98 in 100, a lower-case-only one 95 in 100:
the check is a safety net, not a guarantee.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from candlewick.config.yaml_reader import FieldPath

_SECRET_WORDS = ("secret", "password", "passphrase", "privatekey", "apikey", "token")
_PEM = re.compile(r"-----BEGIN|PRIVATE KEY")
_KNOWN = re.compile(
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}"
)
_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_HEX = re.compile(r"^(?=.*[0-9])(?=.*[A-Fa-f])[0-9A-Fa-f]+$")
_SYLLABLES = re.compile(r"[A-Z]?[a-z]{2,}")
_CONSONANTS = re.compile(r"[b-df-hj-np-tv-xz]{4}", re.IGNORECASE)
_VOWEL = re.compile(r"[aeiouy]", re.IGNORECASE)
MIN_LENGTH = 32


def find_secrets(raw: Any) -> list[tuple[FieldPath, str]]:
    """Where (key path) and why, for every secret-looking key or string value in ``raw``."""
    found: list[tuple[FieldPath, str]] = []
    stack: list[tuple[FieldPath, Any]] = [((), raw)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                where = (*path, str(key))
                if _secret_key(str(key)):
                    found.append((where, "a secret-looking key"))
                stack.append((where, item))
        elif isinstance(value, list):
            stack += [((*path, i), item) for i, item in reversed(list(enumerate(value)))]
        elif isinstance(value, str):
            why = secret_value(value)
            if why:
                found.append((path, why))
    return found


def _secret_key(key: str) -> bool:
    flat = key.lower().replace("_", "").replace("-", "")
    return not flat.endswith("env") and any(word in flat for word in _SECRET_WORDS)


def secret_value(text: str) -> str | None:
    """Why ``text`` looks like a secret (see the module docstring), or None."""
    if _PEM.search(text):
        return "a value that looks like a private key (PEM)"
    if _KNOWN.search(text):
        return "a value that looks like an access token"
    for run in _RUN.findall(text):
        base64_like = "+" in run or run.endswith("=")
        for part in [run] if base64_like else run.split("/"):
            if len(part) >= MIN_LENGTH and (_HEX.match(part) or _random_looking(part)):
                return "a value that looks like an API key or secret (long random text)"
    return None


def _random_looking(part: str) -> bool:
    if not (re.search(r"[0-9]", part) and re.search(r"[A-Za-z]", part)):
        return False
    counts = Counter(part)
    entropy = -sum(n / len(part) * math.log2(n / len(part)) for n in counts.values())
    alnum = sum(ch.isalnum() for ch in part)
    wordy = sum(
        len(s) for s in _SYLLABLES.findall(part) if _VOWEL.search(s) and not _CONSONANTS.search(s)
    )
    return entropy >= 4.0 and wordy < alnum / 2
