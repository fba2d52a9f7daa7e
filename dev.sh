#!/usr/bin/env bash
# Sets everything up (a virtualenv with Candlewick and its dependencies), then runs a job:
#   ./dev.sh demo    the reference backtest on real candles, with its HTML report
#   ./dev.sh test    the whole suite: ruff, mypy, import contracts, then pytest
#   ./dev.sh bench   the benchmarks (writes docs/benchmarks.md)
# Needs only Python >= 3.11 (and apt, as root, if the venv module is missing).
set -euo pipefail
cd "$(dirname "$0")"
job="${1:-demo}"
shift || true

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Candlewick needs Python >= 3.11 (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11+" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing python3-venv with apt-get ..." >&2
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv .venv
    else
      echo "the Python venv module is missing: install python3-venv (apt) and retry" >&2
      exit 1
    fi
  fi
fi

extras="dev"
[ "$job" = bench ] && extras="dev,bench"
stamp=".venv/.candlewick-$(cat pyproject.toml | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  echo "installing Candlewick and its dependencies into .venv ..." >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  rm -f .venv/.candlewick-* && touch "$stamp"
fi

case "$job" in
  demo)
    exec .venv/bin/candlewick demo "$@"
    ;;
  test)
    .venv/bin/ruff check src tests bench
    .venv/bin/mypy
    .venv/bin/lint-imports
    exec .venv/bin/python -m pytest -n 2 "$@"
    ;;
  bench)
    exec .venv/bin/python -m bench "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo|test|bench [args]" >&2
    exit 2
    ;;
esac
