"""The Parquet candle store, CSV import and candle sources, on the real shared data files."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from candlewick.core.resample import resample
from candlewick.core.types import OHLCV_COLUMNS, Candles
from candlewick.core.validation import Gap, find_gaps
from candlewick.data.csv_import import parse_candle_filename, read_candle_csv
from candlewick.data.sources import ensure_candles, import_file, shared_candle_file
from candlewick.data.store import CandleStore, pair_from_slug, pair_slug
from candlewick.errors import DataError, DataNotFoundError
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
HOUR = 3_600_000


def data_file(name: str) -> Path:
    assert SHARED is not None
    return SHARED / "candles" / name


def load_with_numpy(name: str) -> np.ndarray:
    """The file parsed independently of the importer (numpy's text reader)."""
    path = data_file(name)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return np.loadtxt(fh, delimiter=",", skiprows=1)


def assert_same(a: Candles, b: Candles) -> None:
    for name in ("timestamp", *OHLCV_COLUMNS):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    return CandleStore(tmp_path / "candles")


def test_btc_5m_round_trip(store: CandleStore) -> None:
    result = import_file(store, data_file("binance_BTC-USDT_5m.csv.gz"))
    assert (result.exchange, result.pair, result.timeframe) == ("binance", "BTC/USDT", "5m")
    assert result.rows_read == result.added == 154_301
    assert result.gaps == ()
    read = store.read("binance", "BTC/USDT", "5m")
    raw = load_with_numpy("binance_BTC-USDT_5m.csv.gz")
    np.testing.assert_array_equal(read.timestamp, raw[:, 0].astype(np.int64))
    for i, name in enumerate(OHLCV_COLUMNS, start=1):
        np.testing.assert_array_equal(read.column(name), raw[:, i], name)
    assert read.timestamp.dtype == np.int64 and read.close.dtype == np.float64
    (entry,) = store.entries()
    assert (entry.rows, entry.gaps, entry.missing) == (154_301, 0, 0)
    assert entry.first_ts == 1_709_251_200_000  # 2024-03-01 00:00 UTC
    assert entry.last_ts == 1_755_541_200_000  # 2025-08-18 18:20 UTC
    assert entry.path == store.root / "binance" / "BTC-USDT" / "5m.parquet"


def test_xrp_eth_1m_gaps(store: CandleStore) -> None:
    result = import_file(store, data_file("binance_XRP-ETH_1m.csv"))
    assert len(result.gaps) == 676
    assert sum(g.missing for g in result.gaps) == 1_091
    stored = store.read("binance", "XRP/ETH", "1m")
    assert find_gaps(stored.timestamp, "1m") == result.gaps
    (entry,) = store.entries()
    assert (entry.rows, entry.gaps, entry.missing) == (2_469, 676, 1_091)


def test_btc_1h_gaps_are_the_exchange_outages(store: CandleStore) -> None:
    result = import_file(store, data_file("binance_BTC-USDT_1h.csv.gz"))
    assert (len(result.gaps), sum(g.missing for g in result.gaps)) == (28, 128)
    longest = max(result.gaps, key=lambda g: g.missing)
    # No bars from 2018-02-08 01:00 to 2018-02-09 09:00 (33 h), per the data README.
    assert longest == Gap(1_518_051_600_000, 1_518_051_600_000 + 32 * HOUR, 33)


@pytest.mark.parametrize(
    ("fine", "coarse", "timeframe", "overlap"),
    [
        ("binance_BTC-USDT_1m.csv.gz", "binance_BTC-USDT_5m.csv.gz", "5m", 26_141),
        ("binance_BTC-USDT_1m_2024-07.csv.gz", "binance_BTC-USDT_5m.csv.gz", "5m", 8_641),
        ("binance_BTC-USDT_5m.csv.gz", "binance_BTC-USDT_1h.csv.gz", "1h", 1_239),
        ("binance_BTC-USDT_5m.csv.gz", "binance_BTC-USDT_15m.csv.gz", "15m", 3_839),
    ],
)
def test_resampled_real_data_equals_the_exchange_candles(
    fine: str, coarse: str, timeframe: str, overlap: int
) -> None:
    named_fine, named_coarse = parse_candle_filename(fine), parse_candle_filename(coarse)
    assert named_fine is not None and named_coarse is not None
    built = resample(read_candle_csv(data_file(fine), *named_fine).candles, timeframe)
    native = read_candle_csv(data_file(coarse), *named_coarse).candles
    _, i_built, i_native = np.intersect1d(built.timestamp, native.timestamp, return_indices=True)
    assert len(i_built) == overlap
    for name in OHLCV_COLUMNS:  # volume too: bit for bit
        np.testing.assert_array_equal(
            built.column(name)[i_built], native.column(name)[i_native], name
        )


def test_coarser_timeframe_is_resampled_from_the_stored_one_covering_most(
    store: CandleStore,
) -> None:
    import_file(store, data_file("binance_BTC-USDT_5m.csv.gz"))  # 2024-03-01 .. 2025-08-18
    assert store.source_timeframe("binance", "BTC/USDT", "15m") == "5m"
    import_file(store, data_file("binance_BTC-USDT_1m.csv.gz"))  # 2025-05-20 .. 2025-08-18
    # Over all time the 5m series spans more; inside the 1m window both do, and 1m is finer.
    assert store.source_timeframe("binance", "BTC/USDT", "15m") == "5m"
    window = (1_748_736_000_000, 1_751_328_000_000)  # 2025-06-01 .. 2025-07-01
    assert store.source_timeframe("binance", "BTC/USDT", "15m", *window) == "1m"
    assert len(store.read("binance", "BTC/USDT", "15m")) == 154_301 // 3
    one_minute = store.read("binance", "BTC/USDT", "1m")
    expected = resample(one_minute, "15m")
    lo = int(np.searchsorted(expected.timestamp, window[0]))
    hi = int(np.searchsorted(expected.timestamp, window[1], side="right"))
    assert_same(store.read("binance", "BTC/USDT", "15m", *window), expected.slice(lo, hi))


def test_range_reads(store: CandleStore) -> None:
    import_file(store, data_file("binance_BTC-USDT_5m.csv.gz"))
    full = store.read("binance", "BTC/USDT", "5m")
    # Across the boundary of the first two row groups (131,072 rows each).
    start, end = int(full.timestamp[131_000]), int(full.timestamp[131_200])
    part = store.read("binance", "BTC/USDT", "5m", start, end)
    assert_same(part, full.slice(131_000, 131_201))
    assert len(store.read("binance", "BTC/USDT", "5m", end_ms=int(full.timestamp[0]) - 1)) == 0
    tail = store.read("binance", "BTC/USDT", "5m", start_ms=int(full.timestamp[-3]))
    assert len(tail) == 3
    # A resampled range: the buckets overlapping the range are whole, edges included.
    hours = store.read("binance", "BTC/USDT", "1h", start + 1, end)
    expected = resample(full, "1h")
    lo = int(np.searchsorted(expected.timestamp, start + 1, side="left"))
    hi = int(np.searchsorted(expected.timestamp, end, side="right"))
    assert hi - lo == 17  # the range runs from xx:40 to xx:20 sixteen and a bit hours later
    assert_same(hours, expected.slice(lo, hi))


def test_write_merges_and_refuses_disagreement(store: CandleStore) -> None:
    named = parse_candle_filename("binance_XRP-USDT_5m.csv")
    assert named is not None
    whole = read_candle_csv(data_file("binance_XRP-USDT_5m.csv"), *named).candles
    assert store.write(whole.slice(0, 1500)).added == 1500
    result = store.write(whole.slice(1000, len(whole)))
    assert result.added == len(whole) - 1500
    assert result.entry.rows == len(whole)
    assert_same(store.read("binance", "XRP/USDT", "5m"), whole)
    assert store.write(whole.slice(10, 20)).added == 0

    before = store.path("binance", "XRP/USDT", "5m").read_bytes()
    close = whole.close.copy()
    close[1234] += 0.0001
    altered = Candles(*(whole.exchange, whole.pair, "5m", whole.timestamp, whole.open), *(
        whole.high + 1, whole.low, close, whole.volume))  # fmt: skip
    with pytest.raises(DataError, match=r"disagree with the stored ones on \d+ of 2751 shared"):
        store.write(altered)
    assert store.path("binance", "XRP/USDT", "5m").read_bytes() == before
    assert [p.name for p in store.path("binance", "XRP/USDT", "5m").parent.iterdir()] == [
        "5m.parquet"
    ]


def test_write_refuses_invalid_candles(store: CandleStore) -> None:
    ts = np.array([0, 60_000], dtype=np.int64) + 1_704_067_200_000
    one = np.ones(2)
    bad = Candles("binance", "BTC/USDT", "1m", ts, one, one * 0.5, one, one, one)
    with pytest.raises(DataError, match=r"refusing to store .* high below max"):
        store.write(bad)
    assert store.entries() == []


def test_missing_series_names_what_is_stored_and_the_import(store: CandleStore) -> None:
    with pytest.raises(DataNotFoundError, match="the store is empty"):
        store.read("binance", "BTC/USDT", "5m")
    import_file(store, data_file("binance_BTC-USDT_1h.csv.gz"))
    with pytest.raises(DataNotFoundError) as info:
        store.read("binance", "BTC/USDT", "15m")
    message = str(info.value)
    assert "only 1h is stored for it" in message
    assert "candlewick data import PATH --exchange binance --pair BTC/USDT --timeframe 15m" in (
        message
    )
    with pytest.raises(DataNotFoundError, match="the store holds binance BTC/USDT 1h"):
        store.read("kraken", "ETH/USDT", "1h")


def test_delete(store: CandleStore) -> None:
    import_file(store, data_file("binancefutures_BTC-USDT-PERP_5m.csv"))
    entry = store.delete("binancefutures", "BTC/USDT:USDT", "5m")
    assert entry.rows == 864
    assert store.entries() == []
    # Only the writer locks stay (deleting a lock file could let two writers in at once).
    assert [p.name for p in store.root.iterdir()] == [".locks"]
    with pytest.raises(DataNotFoundError, match="nothing to delete"):
        store.delete("binancefutures", "BTC/USDT:USDT", "5m")


def test_read_path_does_not_import_pandas(store: CandleStore) -> None:
    import_file(store, data_file("binance_XRP-USDT_5m.csv"))
    code = (
        "import sys; from pathlib import Path; from candlewick.data.store import CandleStore; "
        f"c = CandleStore(Path({str(store.root)!r})).read('binance', 'XRP/USDT', '15m'); "
        "assert len(c) == 917, len(c); assert 'pandas' not in sys.modules, 'pandas imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_filename_parsing() -> None:
    assert parse_candle_filename("binance_BTC-USDT_5m.csv.gz") == ("binance", "BTC/USDT", "5m")
    assert parse_candle_filename("/x/binance_BTC-USDT_1m_2024-07.csv.gz") == (
        "binance",
        "BTC/USDT",
        "1m",
    )
    assert parse_candle_filename("binancefutures_BTC-USDT-PERP_5m.csv") == (
        "binancefutures",
        "BTC/USDT:USDT",
        "5m",
    )
    assert parse_candle_filename("index_BTC-USD_1M.csv") == ("index", "BTC/USD", "1M")
    assert parse_candle_filename("ftx_BTC-PERP_1m.csv.gz") is None
    assert parse_candle_filename("candles.csv") is None
    assert parse_candle_filename("binance_BTC-USDT_5m.parquet") is None
    for pair in ("BTC/USDT", "BTC/USDT:USDT", "BTC/USD:BTC"):
        assert pair_from_slug(pair_slug(pair)) == pair


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return path


T = 1_704_067_200_000


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [f"{T},1,2,0.5,1.5,3", f"{T},1,2,0.5,1.6,3"],
            rf"1 timestamp\(s\) .* different values \({T} ",
        ),
        ([f"{T},1,2,0.5,1.5,3", f"{T + 60_000},1,1.2,0.5,1.5,3"], rf"high below max.*{T + 60_000}"),
        ([f"{T},1,2,0.5,1.5,-3"], "negative volume"),
        ([f"{T + 1},1,2,0.5,1.5,3"], "not on the 1m grid"),
        ([f"{T},1,2,0.5,,3"], r"1 empty close value\(s\), first on line\(s\) 2"),
        ([f"{T // 1000},1,2,0.5,1.5,3"], "look like seconds"),
        ([f"{T},1,2,x,1.5,3"], "cannot read .*conversion error"),
        ([], "no rows after the header"),
        ([f"{T + i * 300_000},1,2,0.5,1.5,3" for i in range(5)], "pass the file's real timeframe"),
    ],
)
def test_bad_files_are_refused_naming_the_file(
    tmp_path: Path, rows: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError, match=message) as info:
        read_candle_csv(path, "binance", "BTC/USDT", "1m")
    assert str(path) in str(info.value)


def test_import_sorts_and_drops_exact_duplicates(tmp_path: Path, store: CandleStore) -> None:
    rows = [f"{T + 60_000},1,2,0.5,1.5,3", f"{T},1,2,0.5,1.5,3", f"{T + 60_000},1,2,0.5,1.5,3"]
    path = write_csv(tmp_path / "kraken_BTC-USDC_1m.csv", rows)
    result = import_file(store, path)
    assert (result.rows_read, result.duplicates_dropped, result.added) == (3, 1, 2)
    assert store.read("kraken", "BTC/USDC", "1m").timestamp.tolist() == [T, T + 60_000]


def test_import_needs_names_it_cannot_infer(tmp_path: Path, store: CandleStore) -> None:
    path = write_csv(tmp_path / "candles.csv", [f"{T},1,2,0.5,1.5,3"])
    with pytest.raises(DataError, match="pass --exchange, --pair and --timeframe"):
        import_file(store, path)
    assert import_file(store, path, "binance", "eth/usdt", "1m").pair == "ETH/USDT"


def test_ensure_candles_imports_from_the_shared_folder_once(store: CandleStore) -> None:
    candles, origin = ensure_candles(store, "binance", "XRP/USDT", "5m", data_dir=SHARED)
    assert len(candles) == 2_751
    assert "imported just now from" in origin and "binance_XRP-USDT_5m.csv" in origin
    assert origin.startswith("binance XRP/USDT 5m: 2,751 bars, 2026-04-15 00:00 → ")
    again, origin = ensure_candles(store, "binance", "XRP/USDT", "5m", data_dir=SHARED)
    assert_same(again, candles)
    assert "read from the local candle store" in origin and "imported" not in origin


def test_ensure_candles_resamples_a_finer_shared_file(store: CandleStore) -> None:
    # 1m (30 days), 5m (9 days) and 15m (a year) divide 1h: the longest span wins.
    assert shared_candle_file(SHARED, "binance", "XRP/USDT", "1h") == (
        data_file("binance_XRP-USDT_15m.csv.gz"),
        "15m",
    )
    assert shared_candle_file(SHARED, "binance", "XRP/USDT", "5m") == (
        data_file("binance_XRP-USDT_5m.csv"),
        "5m",
    )
    candles, origin = ensure_candles(store, "binance", "XRP/USDT", "1h", data_dir=SHARED)
    assert "resampled from 15m candles, imported just now" in origin
    assert [e.timeframe for e in store.entries()] == ["15m"]
    assert_same(candles, resample(store.read("binance", "XRP/USDT", "15m"), "1h"))


def test_ensure_candles_explains_what_to_do(store: CandleStore, tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        ensure_candles(store, "kraken", "DOGE/USDT", "5m", data_dir=SHARED)
    message = str(info.value)
    assert "candlewick data import PATH --exchange kraken --pair DOGE/USDT" in message
    assert "No file kraken_DOGE-USDT_5m.csv[.gz]" in message
    assert "not available" not in message  # downloading exists: the message says how
    assert (
        "candlewick data download --exchange kraken --pairs DOGE/USDT --timeframes 5m "
        "--since YYYY-MM-DD" in message
    )
    with pytest.raises(DataNotFoundError, match=f"in {tmp_path / 'absent' / 'candles'} either"):
        ensure_candles(store, "kraken", "DOGE/USDT", "5m", data_dir=tmp_path / "absent")


def test_store_files_carry_no_pandas_metadata(store: CandleStore) -> None:
    import pyarrow.parquet as pq

    import_file(store, data_file("binance_XRP-ETH_5m.csv"))
    meta = pq.read_metadata(store.path("binance", "XRP/ETH", "5m")).metadata
    assert b"pandas" not in meta
    assert not any(p.name.endswith(".tmp") for p in store.root.rglob("*"))
