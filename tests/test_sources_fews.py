"""Delft-FEWS PI-XML / PI-JSON and the project's sensor CSV: real files and edge fixtures."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest.sources.errors import BadRecord, SourceFormatError
from pipelines.ingest.sources.fews import read_pi_json, read_pi_xml
from pipelines.ingest.sources.sensor_csv import read_sensor_csv

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def _at(events: pd.DataFrame, sensor: str, utc: str) -> pd.Series:
    row = events[(events["sensor"] == sensor) & (events["time"] == pd.Timestamp(utc))]
    assert len(row) == 1, row
    return row.iloc[0]


def test_radar_series_from_a_water_board(shared_data: Path) -> None:
    path = shared_data / "sensors" / "fews" / "test_wsvv_fews.xml"
    series = read_pi_xml(path)
    assert len(series.events) == path.read_text().count("<event ")
    assert series.events["time"].dt.tz is not None
    assert set(series.meta["sensor"]) == {"FEWS_RADAR_241/P.radar.h", "FEWS_RADAR_241/Eact.d"}
    # <event date="2013-06-12" time="00:00:00" value="0.7"> of Eact.d, timeZone 1.0 → 23:00 UTC
    event = _at(series.events, "FEWS_RADAR_241/Eact.d", "2013-06-11T23:00Z")
    assert event["value"] == pytest.approx(0.7) and event["unit"] == "mm" and event["flag"] == 2
    meta = series.meta.set_index("sensor").loc["FEWS_RADAR_241/P.radar.h"]
    assert meta["name"] == "Schernzeel-noord"
    assert (meta.geometry.x, meta.geometry.y) == (161278.0, 454989.0)
    assert series.meta.crs.to_epsg() == 28992


def test_production_export_in_a_zip(shared_data: Path) -> None:
    path = shared_data / "sensors" / "fews" / "WaalenBurg_201810-20190215_prod.zip"
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(archive.namelist()[0]).decode()
    series = read_pi_xml(path)
    events = series.events
    assert len(events) == xml.count("<event ") == 100_114
    assert events["value"].isna().sum() == xml.count('value="NaN"')
    assert list(events.columns) == ["sensor", "time", "value", "unit", "flag"]
    assert str(events["time"].dtype) == "datetime64[us, UTC]"
    assert str(events["flag"].dtype) == "Int64"
    # MPN-N-1: <event date="2018-10-01" time="12:00:00" value="-1.241" flag="0"/>, UTC+1
    event = _at(events, "MPN-N-1/H.meting", "2018-10-01T11:00Z")
    assert event["value"] == pytest.approx(-1.241) and event["unit"] == "mNAP"
    assert _at(events, "MPN-N-2/H.meting", "2018-10-01T11:00Z")["value"] == pytest.approx(-0.961)
    assert events.groupby("sensor")["time"].is_monotonic_increasing.all()
    assert series.quarantined == []


def test_pi_json_offsets_missing_values_duplicates_and_bad_events() -> None:
    series = read_pi_json(FIXTURES / "fews" / "two_series_cest.json")
    events = series.events
    level = events[events["sensor"] == "GEMAAL-3/H.meting"]
    # timeZone 2.0: 03:00 local is 01:00 UTC; missVal -999.0 is NaN; the later of two
    # events at 03:30 wins; the event with a broken date is quarantined
    assert level["time"].dt.strftime("%H:%M").tolist() == ["01:00", "01:15", "01:30"]
    np.testing.assert_allclose(level["value"], [-0.40, np.nan, -0.42])
    assert level["flag"].tolist() == [0, 9, 1]
    reasons = sorted(item.reason for item in series.quarantined)
    assert len(reasons) == 2 and "expected date" in reasons[0] and "second event" in reasons[1]
    assert "-0.41 replaced by -0.42" in reasons[1]  # both values kept in the reason
    meta = series.meta.set_index("sensor")
    # lat/lon of De Bilt reprojected to RD; the Q series gives x/y directly
    assert meta.loc["GEMAAL-3/H.meting"].geometry.distance(
        meta.loc["GEMAAL-3/Q.meting"].geometry) < 50
    assert meta.loc["GEMAAL-3/Q.meting", "unit"] == "m3/s"


def test_pi_json_strict_policy_raises() -> None:
    with pytest.raises(SourceFormatError, match="two_series_cest.json"):
        read_pi_json(FIXTURES / "fews" / "two_series_cest.json", on_bad_record=BadRecord.RAISE)


def test_truncated_xml_names_file_and_line() -> None:
    with pytest.raises(SourceFormatError) as caught:
        read_pi_xml(FIXTURES / "fews" / "truncated.xml")
    assert "truncated.xml" in str(caught.value) and caught.value.line is not None


def test_xml_that_is_not_pi(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<kml><Document/></kml>")
    with pytest.raises(SourceFormatError, match="TimeSeries"):
        read_pi_xml(path)


def test_json_that_is_not_pi(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"type": "FeatureCollection"}')
    with pytest.raises(SourceFormatError, match="timeSeries"):
        read_pi_json(path)


def test_sensor_csv_dst_offsets_and_quarantine() -> None:
    path = FIXTURES / "sensors" / "dst_and_duplicates.csv"
    series = read_sensor_csv(path)
    weir = series.events[series.events["sensor"] == "STUW-12/H.meting"]
    # 01:45 CET and 03:00 CEST are 15 minutes apart across the spring DST jump; both
    # 02:30 in the autumn (CEST then CET) are distinct instants an hour apart
    assert weir["time"].dt.strftime("%m-%d %H:%M").tolist() == [
        "03-29 00:45", "03-29 01:00", "03-29 01:15", "10-25 00:30", "10-25 01:30",
    ]
    np.testing.assert_allclose(weir["value"], [-0.412, -0.416, np.nan, -0.5, -0.6])
    by_line = {item.line: item.reason for item in series.quarantined if item.line}
    assert "no UTC offset" in by_line[7]
    assert "could not convert" in by_line[8]
    assert "expected 7 fields" in by_line[9]
    assert any("second event" in item.reason and "-0.415 replaced by -0.416" in item.reason
               for item in series.quarantined)
    meta = series.meta.set_index("sensor")
    assert meta.loc["STUW-12/H.meting"].geometry.x == 121500.0
    assert meta.loc["REGEN-1/P.meting"].geometry is None
    assert series.events["flag"].isna().sum() == 1


def test_sensor_csv_without_required_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("sensor,time,value\nA/H,2026-01-01T00:00Z,1\n")
    with pytest.raises(SourceFormatError, match=r"bad.csv, line 1: header lacks \['unit'\]"):
        read_sensor_csv(path)
