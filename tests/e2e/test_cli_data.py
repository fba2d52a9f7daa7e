"""``candlewick data`` end to end: Typer's runner on the sub-app, and the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from candlewick.cli.data_cmd import app
from candlewick.errors import DataError, DataNotFoundError
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)


def data_file(name: str) -> str:
    assert SHARED is not None
    return str(SHARED / "candles" / name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(home: Path, *args: str) -> Result:
    env = {"CANDLEWICK_HOME": str(home), "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_import_reports_rows_range_and_gaps(home: Path) -> None:
    result = run(home, "import", data_file("binance_XRP-ETH_1m.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 2,469 bars of binance XRP/ETH 1m" in result.output
    assert "2019-10-11 00:00 → 2019-10-13 11:19 UTC" in result.output
    assert "676 run(s), 1,091 missing bar(s)" in result.output
    assert (home / "candles" / "binance" / "XRP-ETH" / "1m.parquet").is_file()

    again = run(home, "import", data_file("binance_XRP-ETH_1m.csv"))
    assert "0 new bar(s); the store now holds 2,469 bars" in again.output


def test_import_with_explicit_names(home: Path, tmp_path: Path) -> None:
    plain = tmp_path / "prices.csv"
    plain.write_bytes(Path(data_file("binance_XRP-USDT_5m.csv")).read_bytes())
    result = run(
        home,
        "import",
        str(plain),
        "--exchange",
        "Binance",
        "--pair",
        "xrp/usdt",
        "--timeframe",
        "5m",
    )
    assert result.exit_code == 0, result.output
    assert "Imported 2,751 bars of binance XRP/USDT 5m" in result.output


def test_list_show_and_gaps(home: Path) -> None:
    run(home, "import", data_file("binance_BTC-USDT_1h.csv.gz"))
    run(home, "import", data_file("binancefutures_BTC-USDT-PERP_5m.csv"))

    listed = run(home, "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    btc = next(line for line in lines if "BTC/USDT " in line and "1h" in line)
    for cell in ("binance", "2017-08-17 04:00", "2024-04-21 14:00", "58,419", "28", "128"):
        assert cell in btc
    assert any("binancefutures" in line and "BTC/USDT:USDT" in line for line in lines)

    shown = run(home, "show", "binance", "BTC/USDT", "1h", "--tail", "2")
    assert shown.exit_code == 0, shown.output
    assert "last 2 of 58,419 bars" in shown.output
    assert "2024-04-21 13:00" in shown.output and "2024-04-21 14:00" in shown.output

    day = run(
        home, "show", "binance", "BTC/USDT", "4h", "--start", "2024-03-01", "--end", "2024-03-01"
    )
    assert day.exit_code == 0, day.output
    assert "last 6 of 6 bars, resampled from 1h" in day.output
    assert "2024-03-01 20:00" in day.output and "2024-03-02" not in day.output

    gaps = run(home, "gaps", "binance", "BTC/USDT", "1h", "--limit", "2")
    assert gaps.exit_code == 0, gaps.output
    assert "28 run(s), 128 missing bar(s); the longest is 33 bar(s) from 2018-02-08 01:00" in (
        gaps.output
    )
    assert "... and 26 more run(s)" in gaps.output


def test_empty_store_listing(home: Path) -> None:
    result = run(home, "list")
    assert result.exit_code == 0
    assert "is empty" in result.output and "candlewick data import PATH" in result.output


def test_bad_file_gives_a_data_error_naming_it(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "binance_BTC-USDT_1m.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1704067200000,1,0.5,0.4,0.9,3\n")
    result = run(home, "import", str(bad))
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError)
    assert str(bad) in str(result.exception) and "high below max(open, close)" in str(
        result.exception
    )
    assert not (home / "candles" / "binance").exists()


def test_missing_series_and_bad_dates(home: Path) -> None:
    missing = run(home, "show", "binance", "BTC/USDT", "5m")
    assert isinstance(missing.exception, DataNotFoundError)
    assert "candlewick data import PATH --exchange binance" in str(missing.exception)
    run(home, "import", data_file("binance_XRP-USDT_5m.csv"))
    bad_date = run(home, "show", "binance", "XRP/USDT", "5m", "--start", "yesterday")
    assert bad_date.exit_code == 2
    assert "is not an ISO date" in bad_date.output


def test_delete(home: Path) -> None:
    run(home, "import", data_file("binance_XRP-USDT_5m.csv"))
    refused = CliRunner().invoke(
        app,
        ["delete", "binance", "XRP/USDT", "5m"],
        input="n\n",
        env={"CANDLEWICK_HOME": str(home)},
    )
    assert refused.exit_code == 1 and "Aborted" in refused.output
    done = run(home, "delete", "binance", "XRP/USDT", "5m", "--yes")
    assert done.exit_code == 0 and "Deleted 2,751 bars" in done.output
    assert "is empty" in run(home, "list").output


def entry_point(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a subprocess."""
    env = {**os.environ, "CANDLEWICK_HOME": str(home), "COLUMNS": "200"}
    code = "from candlewick.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )


def test_entry_point_prints_errors_without_traceback(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "binance_BTC-USDT_1m.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5\n")
    done = entry_point(home, "data", "import", str(bad))
    assert done.returncode == 2
    assert "error:" in done.stderr and "binance_BTC-USDT_1m.csv" in done.stderr
    assert "Expected 6 columns" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_bad_values_are_refused_by_the_entry_point_naming_the_line(
    home: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "binance_BTC-USDT_1m.csv"
    bad.write_text(
        "timestamp,open,high,low,close,volume\n"
        "1704067200000,1,2,0.5,1.5,3\n"
        "1704067260000,1,inf,0.5,1.5,3\n"
    )
    done = entry_point(home, "data", "import", str(bad))
    assert done.returncode == 2
    err = " ".join(done.stderr.split())  # Rich wraps long lines
    assert str(bad) in err and "refused, nothing was stored" in err
    assert "line 3 (timestamp 1704067260000, 2024-01-01 00:01 UTC): high = inf" in err
    assert "Fix: replace the value" in err
    assert "Traceback" not in done.stderr + done.stdout


def test_a_lone_bar_is_set_aside_with_a_warning(home: Path, tmp_path: Path) -> None:
    header, *rows = Path(data_file("binance_XRP-USDT_5m.csv")).read_text().splitlines()
    lone = ",".join(["1735689600000", *rows[0].split(",")[1:]])  # 2025-01-01, 15 months before
    path = tmp_path / "binance_XRP-USDT_5m.csv"
    path.write_text("\n".join([header, *rows, lone]) + "\n")
    result = run(home, "import", str(path))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Imported 2,751 bars of binance XRP/USDT 5m" in out
    assert "warning: " in out and "line 2753 (timestamp 1735689600000, 2025-01-01 00:00 UTC)" in out
    aside = home / "candles" / ".quarantine" / "binance_XRP-USDT_5m.csv"
    assert f"candlewick data import {aside}" in out
    assert aside.read_text().startswith("timestamp,open,high,low,close,volume\n1735689600000,")
