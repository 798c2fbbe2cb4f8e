"""KNMI readers: every shared file ingests, known values match the files, edge cases hold."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely import Point

from pipelines.ingest.sources.errors import BadRecord, SourceFormatError
from pipelines.ingest.sources.knmi import knmi_stations, read_knmi_daily, read_knmi_rain_gauge

FIXTURES = Path(__file__).parent / "fixtures" / "sources" / "knmi"
SHARED_STATIONS = ["249", "251", "257", "269", "273", "277", "278", "279", "286", "340", "348"]


def _value(frame: pd.DataFrame, station: str, day: str, column: str) -> float:
    row = frame[(frame["station"] == station) & (frame["date"] == pd.Timestamp(day))]
    assert len(row) == 1
    return float(row[column].iloc[0])


@pytest.mark.parametrize("station", SHARED_STATIONS)
def test_every_shared_daily_file_ingests(shared_data: Path, station: str) -> None:
    path = shared_data / "knmi" / "daily" / f"etmgeg_{station}.zip"
    with zipfile.ZipFile(path) as archive:
        text = archive.read(f"etmgeg_{station}.txt").decode("ascii")
    records = [line for line in text.splitlines() if line.startswith(f"  {station},")]

    frame = read_knmi_daily(path)

    assert len(frame) == len(records)
    assert frame.attrs["quarantined"] == []
    assert list(frame.columns) == ["station", "date", "precipitation_mm", "evaporation_mm"]
    assert (frame["station"] == station).all()
    assert frame["date"].is_monotonic_increasing and frame["date"].is_unique
    assert frame["date"].dt.tz is None
    assert frame["date"].max() == pd.Timestamp("2026-06-25")
    # daily sums in mm: never negative, never more than the Dutch record (~ 240 mm)
    assert frame["precipitation_mm"].min() >= 0
    assert frame["precipitation_mm"].max() < 250
    if station != "340":
        assert frame["evaporation_mm"].between(0, 10).sum() > 0.8 * len(frame)


def test_known_values_read_off_the_files(shared_data: Path) -> None:
    daily = shared_data / "knmi" / "daily"
    berkhout = read_knmi_daily(daily / "etmgeg_249.zip")
    assert _value(berkhout, "249", "1999-03-26", "precipitation_mm") == pytest.approx(7.5)
    assert _value(berkhout, "249", "1999-03-26", "evaporation_mm") == pytest.approx(0.9)
    assert _value(berkhout, "249", "2018-07-01", "precipitation_mm") == 0.0
    assert _value(berkhout, "249", "2018-07-01", "evaporation_mm") == pytest.approx(5.7)
    # RH = -1 (< 0.05 mm) on 1999-03-25 becomes half the detection limit
    assert _value(berkhout, "249", "1999-03-25", "precipitation_mm") == pytest.approx(0.025)
    cabauw = read_knmi_daily(daily / "etmgeg_348.zip")
    assert _value(cabauw, "348", "2026-06-25", "evaporation_mm") == pytest.approx(5.8)


def test_station_340_has_no_evaporation(shared_data: Path) -> None:
    frame = read_knmi_daily(shared_data / "knmi" / "daily" / "etmgeg_340.zip")
    assert frame["evaporation_mm"].isna().all()
    assert frame["precipitation_mm"].notna().sum() > 3000


def test_file_without_ev24_column_and_reordered_columns() -> None:
    frame = read_knmi_daily(FIXTURES / "etmgeg_340_no_ev24.txt")
    assert frame["precipitation_mm"].tolist() == [3.3, 0.0]
    assert frame["evaporation_mm"].isna().all()


def test_edges_garbage_duplicates_impossible_dates_are_quarantined() -> None:
    path = FIXTURES / "etmgeg_999_edges.txt"
    frame = read_knmi_daily(path)
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05",
    ]
    np.testing.assert_allclose(frame["precipitation_mm"], [1.2, 0.025, np.nan, 10.5, 0.0])
    np.testing.assert_allclose(frame["evaporation_mm"], [0.7, 0.8, np.nan, 1.1, np.nan])
    reasons = {item.line: item.reason for item in frame.attrs["quarantined"]}
    # header at line 4, blank line 5, first record line 6
    assert set(reasons) == {9, 11, 12}
    assert "fields" in reasons[9]
    assert "duplicate" in reasons[11]
    assert "calendar date" in reasons[12]


def test_strict_policy_raises_with_file_and_line() -> None:
    path = FIXTURES / "etmgeg_999_edges.txt"
    with pytest.raises(SourceFormatError) as caught:
        read_knmi_daily(path, on_bad_record=BadRecord.RAISE)
    assert caught.value.line == 9
    assert "etmgeg_999_edges.txt, line 9" in str(caught.value)


def test_truncated_file_keeps_complete_records() -> None:
    frame = read_knmi_daily(FIXTURES / "etmgeg_998_truncated.txt")
    assert len(frame) == 1
    [cut] = frame.attrs["quarantined"]
    assert cut.line == 7 and "expected 6" in cut.reason


def test_missing_header_is_a_format_error() -> None:
    with pytest.raises(SourceFormatError, match="etmgeg_997_no_header.txt.*STN,YYYYMMDD"):
        read_knmi_daily(FIXTURES / "etmgeg_997_no_header.txt")


def test_zip_and_txt_read_the_same(tmp_path: Path) -> None:
    source = FIXTURES / "etmgeg_999_edges.txt"
    packed = tmp_path / "etmgeg_999.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(source, "etmgeg_999.txt")
    pd.testing.assert_frame_equal(read_knmi_daily(packed), read_knmi_daily(source))


def test_broken_zip_is_a_format_error(tmp_path: Path) -> None:
    broken = tmp_path / "etmgeg_260.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceFormatError, match="etmgeg_260.zip"):
        read_knmi_daily(broken)


@pytest.mark.parametrize(
    ("name", "station", "first_day", "first_mm"),
    [
        ("neerslaggeg_DE-BILT_550.txt", "550", "2000-01-01", 1.1),
        ("neerslaggeg_ESBEEK_831.txt", "831", "1951-01-01", 0.0),
        ("neerslaggeg_VILSTEREN_342.txt", "342", "1952-01-02", 9.5),
    ],
)
def test_every_rain_gauge_file_ingests(
    shared_data: Path, name: str, station: str, first_day: str, first_mm: float
) -> None:
    path = shared_data / "knmi" / "rain-gauges" / name
    records = [
        line for line in path.read_text().splitlines() if line.startswith(f"{station},")
    ]
    frame = read_knmi_rain_gauge(path)
    assert len(frame) == len(records)
    assert frame.attrs["period"] == "08-08 UTC"
    assert frame.attrs["quarantined"] == []
    assert _value(frame, station, first_day, "precipitation_mm") == pytest.approx(first_mm)
    first = frame[frame["date"] == pd.Timestamp(first_day)]
    assert first["period_end_utc"].iloc[0] == pd.Timestamp(first_day) + pd.Timedelta(hours=8)


def test_rain_gauge_five_spaces_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "neerslaggeg_TEST_1.txt"
    path.write_text("legend\n\nSTN,YYYYMMDD,   RD,   SX,\n1,20200101,     ,    0,\n1,20200102,   20,     ,\n")
    frame = read_knmi_rain_gauge(path)
    assert frame["precipitation_mm"].isna().tolist() == [True, False]
    assert frame["precipitation_mm"].iloc[1] == pytest.approx(2.0)


def test_station_table_covers_the_automatic_stations() -> None:
    stations = knmi_stations()
    assert stations.crs.to_epsg() == 28992
    wanted = "249 251 257 260 269 273 277 278 279 280 286 290 310 340 344 348 350 370 375 380"
    assert set(wanted.split()) <= set(stations["station"])
    assert len(stations) >= 50 and stations["station"].is_unique
    de_bilt = stations.set_index("station").loc["260", "geometry"]
    # De Bilt lies near RD (140 565, 456 791)
    assert de_bilt.distance(Point(140565, 456791)) < 50
    # every station inside the Dutch RD extent
    assert stations.geometry.x.between(0, 300_000).all()
    assert stations.geometry.y.between(300_000, 625_000).all()


def test_records_outside_the_common_form_read_as_field_by_field(tmp_path: Path) -> None:
    """Well-formed records take a whole-record pattern, others the field-by-field parse:
    both give the same values, in the header's column order, and the same quarantine."""
    path = tmp_path / "etmgeg_260.txt"
    path.write_text(
        "# STN,YYYYMMDD, EV24,   TG,   RH\n"
        "  260,20200101,   12,   33,   -1\n"  # common form; RH -1 is a trace
        "260,20200102,     ,   33,   40\n"  # blank EV24
        "260,20200103,   +5,   33,   41\n"  # a sign: int() reads it, the pattern does not
        "260,20200104,    \u0667,   33,   42\n"  # an Arabic-Indic seven: int() reads it
        "260,20200105,    7,   33,  4011\n"  # RH wider than its header column
        "260,20200106,    7,   x3,   43\n"  # an unread column may hold anything of its width
        "260,20200107,    7,   33,\n"  # an empty last field is a missing value
        "260,20200108,   07,   33,   -0\n",
        encoding="utf-8")
    frame = read_knmi_daily(path)
    assert frame["date"].dt.day.tolist() == [1, 2, 3, 4, 6, 7, 8]
    assert frame["station"].tolist() == ["260"] * 7
    np.testing.assert_array_equal(frame["precipitation_mm"], [0.025, 4.0, 4.1, 4.2, 4.3, np.nan, 0.0])
    np.testing.assert_array_equal(frame["evaporation_mm"], [1.2, np.nan, 0.5, 0.7, 0.7, 0.7, 0.7])
    assert [(item.line, item.reason.split(":")[0]) for item in frame.attrs["quarantined"]] == [
        (6, "field RH is 6 characters wide, its header column 5")]
