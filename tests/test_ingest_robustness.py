"""The broken and awkward files of issue 14, one by one: each is read right, quarantined with
its reason, or refused with ``SourceFormatError`` naming the file; nothing is silently wrong.

Most start from real files in ``../shared/data`` (skipped where absent) with one edit; the
flow-level cases (overlapping files, one-station meteo, sensor kinds) run the real flows."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from models.qc import sensor_thresholds, thresholds_with
from pipelines.ingest.reconcile import reconcile
from pipelines.ingest.sources.dino import read_dino_csv
from pipelines.ingest.sources.errors import PlausibleDates, SourceFormatError
from pipelines.ingest.sources.fews import read_pi_json, read_pi_xml
from pipelines.ingest.sources.knmi import read_knmi_daily, read_knmi_rain_gauge
from pipelines.ingest.sources.sensor_csv import read_sensor_csv


def _knmi_lines(shared_data: Path) -> list[str]:
    with zipfile.ZipFile(shared_data / "knmi" / "daily" / "etmgeg_348.zip") as archive:
        return archive.read("etmgeg_348.txt").decode("ascii").splitlines()


def _write_knmi(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "etmgeg_348.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return path


# ------------------------------------------------------------------------------------ KNMI

def test_knmi_line_cut_short_in_its_last_field_is_quarantined(shared_data, tmp_path):
    lines = _knmi_lines(shared_data)
    last = len(lines) - 1
    assert lines[last].endswith(", " + lines[last].rsplit(",", 1)[1].strip()) or lines[last][-1].isdigit()
    lines[last] = lines[last][:-2]  # "   43" -> "   " + "4": a download cut two characters short
    frame = read_knmi_daily(_write_knmi(tmp_path, lines))
    assert pd.Timestamp("2026-06-25") not in set(frame["date"])
    [item] = frame.attrs["quarantined"]
    assert item.line == last + 1 and "EV24" in item.reason and "wide" in item.reason


def test_knmi_garbled_ev24_header_is_refused(shared_data, tmp_path):
    lines = _knmi_lines(shared_data)
    header = next(i for i, line in enumerate(lines) if line.startswith("# STN,YYYYMMDD"))
    lines[header] = lines[header].replace("EV24", "EV2$")
    with pytest.raises(SourceFormatError, match=r"etmgeg_348.txt, line \d+: header names column\(s\) \['EV2\$'\]"):
        read_knmi_daily(_write_knmi(tmp_path, lines))


@pytest.mark.parametrize("year", ["0001", "1677", "2262", "9999"])
def test_knmi_implausible_years_are_quarantined(shared_data, tmp_path, year):
    lines = _knmi_lines(shared_data)
    lines[-5] = lines[-5].replace(",2026", f",{year}", 1)
    frame = read_knmi_daily(_write_knmi(tmp_path, lines))
    assert frame["date"].dt.year.between(1850, 2030).all()
    assert [q.reason for q in frame.attrs["quarantined"]] == [PlausibleDates().reason()]


def test_the_plausible_window_is_configurable(shared_data, tmp_path):
    frame = read_knmi_daily(shared_data / "knmi" / "daily" / "etmgeg_348.zip",
                            dates=PlausibleDates("2026-01-01"))
    assert frame["date"].min() == pd.Timestamp("2026-01-01")
    assert len(frame.attrs["quarantined"]) > 10_000


def test_rain_gauge_with_bom_and_cr_only_line_ends(shared_data, tmp_path):
    real = shared_data / "knmi" / "rain-gauges" / "neerslaggeg_DE-BILT_550.txt"
    expected = read_knmi_rain_gauge(real)
    path = tmp_path / real.name
    path.write_bytes(b"\xef\xbb\xbf" + real.read_bytes().replace(b"\r\n", b"\r").replace(b"\n", b"\r"))
    got = read_knmi_rain_gauge(path)
    pd.testing.assert_frame_equal(got, expected, check_like=True)


# ------------------------------------------------------------------------------------ DINO

def _dino(shared_data: Path, name: str) -> list[str]:
    return (shared_data / "groundwater" / name).read_text(encoding="utf-8").splitlines()


def _write(tmp_path: Path, name: str, lines: list[str], *, newline: str = "\r\n", encoding: str = "utf-8",
           prefix: bytes = b"") -> Path:
    path = tmp_path / name
    path.write_bytes(prefix + (newline.join(lines) + newline).encode(encoding))
    return path


def test_dino_corrupted_well_id_makes_no_phantom_well(shared_data, tmp_path):
    lines = _dino(shared_data, "dino-2019/B33F0080002_1.csv")
    row = next(i for i, line in enumerate(lines) if line.startswith("B33F0080,002,28-11-1972"))
    lines[row] = lines[row].replace("B33F0080", "B33F0O80", 1)
    record = read_dino_csv(_write(tmp_path, "B33F0080002_1.csv", lines))
    assert set(record.levels["well"]) == {"B33F0080-002"}
    [item] = record.quarantined
    assert item.line == row + 1 and "B33F0O80-002" in item.reason and "well table" in item.reason


def test_dino_2024_without_blank_line_between_tables_keeps_the_well_in_place(shared_data, tmp_path):
    lines = _dino(shared_data, "dino-2024/B02H0089001.csv")
    level_header = max(i for i, line in enumerate(lines) if line.startswith('"Locatie"'))
    assert lines[level_header - 1].strip(",") == ""
    del lines[level_header - 1]  # the empty row ",,,,," between well table and level table
    assert lines[level_header - 2].startswith('"B02H0089"')
    got = read_dino_csv(_write(tmp_path, "B02H0089001.csv", lines))
    expected = read_dino_csv(shared_data / "groundwater" / "dino-2024" / "B02H0089001.csv")
    assert (got.wells.geometry.x.iloc[0], got.wells.geometry.y.iloc[0]) == \
        (expected.wells.geometry.x.iloc[0], expected.wells.geometry.y.iloc[0])
    pd.testing.assert_frame_equal(got.levels, expected.levels)


def test_dino_malformed_first_date_costs_one_row(shared_data, tmp_path):
    lines = _dino(shared_data, "dino-2019/B33F0080002_1.csv")
    row = next(i for i, line in enumerate(lines) if line.startswith("B33F0080,002,28-11-1972"))
    lines[row] = lines[row].replace("28-11-1972", "28/11/1972")
    record = read_dino_csv(_write(tmp_path, "B33F0080002_1.csv", lines))
    expected = read_dino_csv(shared_data / "groundwater" / "dino-2019" / "B33F0080002_1.csv")
    assert len(record.levels) == len(expected.levels) - 1
    assert [q.line for q in record.quarantined] == [row + 1]


@pytest.mark.parametrize("variant", ["bom", "cr-only", "cp1252"])
def test_dino_bom_cr_only_and_windows_text(shared_data, tmp_path, variant):
    lines = _dino(shared_data, "dino-2019/B58A0092004_0.csv")
    expected = read_dino_csv(shared_data / "groundwater" / "dino-2019" / "B58A0092004_0.csv")
    if variant == "bom":
        path = _write(tmp_path, "B58A0092004_0.csv", lines, prefix=b"\xef\xbb\xbf")
    elif variant == "cr-only":
        path = _write(tmp_path, "B58A0092004_0.csv", lines, newline="\r")
    else:
        lines[0] = "Titel: Peilbuis bij café 't Hoekje"
        path = _write(tmp_path, "B58A0092004_0.csv", lines, encoding="cp1252")
    got = read_dino_csv(path)
    pd.testing.assert_frame_equal(got.levels, expected.levels)


def test_dino_0_layout_keeps_the_day_not_the_logger_hour(shared_data):
    record = read_dino_csv(shared_data / "groundwater" / "dino-2019" / "B58A0092004_0.csv")
    assert (record.levels["time"] == record.levels["time"].dt.normalize()).all()
    assert record.levels_from == "surface"
    # 2012/06/29 04:00:00 in the _0 file is the 29 June reading of the _1 file
    with_nap = read_dino_csv(shared_data / "groundwater" / "dino-2019" / "B58A0092004_1.csv")
    day = pd.Timestamp("2012-06-29")
    assert day in set(record.levels["time"]) and day in set(with_nap.levels["time"])


def test_dino_levels_only_relative_to_measuring_point_are_quarantined(shared_data):
    record = read_dino_csv(shared_data / "groundwater" / "dino-2024" / "B02H0092001.csv")
    assert record.levels.empty
    assert len(record.quarantined) == 4
    assert all("no NAP height" in q.reason for q in record.quarantined)


def test_dino_csv_error_from_a_stray_quote_is_a_record_problem(shared_data, tmp_path):
    lines = _dino(shared_data, "dino-2024/B02H0089001.csv")
    row = max(i for i, line in enumerate(lines) if line.startswith('"B02H0089"'))
    lines[row] = lines[row][:20] + '"\x00' + lines[row][20:]
    record = read_dino_csv(_write(tmp_path, "B02H0089001.csv", lines))
    assert [q.line for q in record.quarantined] == [row + 1]


# ------------------------------------------------------------------------ PI-XML / PI-JSON

def _pi_json(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "series.json"
    path.write_text(json.dumps(document))
    return path


def _series(location="PEIL-1", parameter="H.meting", module="Import", events=None, **header):
    return {"header": {"locationId": location, "parameterId": parameter, "moduleInstanceId": module,
                       "units": "m", "x": "121500", "y": "487300", **header},
            "events": events if events is not None else [
                {"date": "2025-08-01", "time": "00:00:00", "value": "-0.4", "flag": "0"},
                {"date": "2025-08-01", "time": "01:00:00", "value": "-0.5", "flag": "0"}]}


@pytest.mark.parametrize("item", [
    {"header": None, "events": []}, {"events": []}, {"header": [], "events": []}, "series", None,
    {"header": {"locationId": None, "parameterId": "H"}, "events": []},
    {"header": {"locationId": "A", "parameterId": "H"}, "events": None},
    {"header": {"locationId": "A", "parameterId": "H"}, "events": {"0": {}}},
    {"header": {"locationId": "A", "parameterId": "H"}, "events": [None, ["2025-01-01"], 5]},
    {"header": {"locationId": "A", "parameterId": "H"}, "events": [{"date": 20250101, "time": None, "value": []}]},
])
def test_pi_json_odd_types_cost_their_series_only(tmp_path, item):
    path = _pi_json(tmp_path, {"timeZone": "0.0", "timeSeries": [item, _series()]})
    series = read_pi_json(path)
    assert list(series.meta["sensor"]) == ["PEIL-1/H.meting"] or set(series.meta["sensor"]) == {"A/H",
                                                                                               "PEIL-1/H.meting"}
    assert len(series.events[series.events["sensor"] == "PEIL-1/H.meting"]) == 2
    assert series.quarantined


@pytest.mark.parametrize("time_zone", [{"h": 1}, "one", 99, [1]])
def test_pi_json_odd_time_zone_is_refused_naming_the_file(tmp_path, time_zone):
    with pytest.raises(SourceFormatError, match="series.json: timeZone"):
        read_pi_json(_pi_json(tmp_path, {"timeZone": time_zone, "timeSeries": [_series()]}))


def test_pi_json_huge_flag_is_quarantined_not_an_overflow(tmp_path):
    item = _series()
    item["events"][1]["flag"] = "9" * 40
    series = read_pi_json(_pi_json(tmp_path, {"timeSeries": [item]}))
    assert len(series.events) == 1
    assert "flag is not an integer 0-9" in series.quarantined[0].reason


def test_two_models_of_one_location_keep_their_identity(tmp_path):
    document = {"timeSeries": [_series(module="Meting"), _series(module="Model", events=[
        {"date": "2025-08-01", "time": "00:00:00", "value": "-0.1", "flag": "0"}])]}
    path = _pi_json(tmp_path, document)
    first_wins = read_pi_json(path)
    assert set(first_wins.events["value"]) == {-0.4, -0.5}  # the model's -0.1 is not merged in
    assert "moduleInstanceId='Model'" in first_wins.quarantined[0].reason
    full = read_pi_json(path, identity="full")
    assert set(full.meta["sensor"]) == {"PEIL-1/H.meting@Meting", "PEIL-1/H.meting@Model"}
    assert not full.quarantined


def test_pi_header_with_degrees_in_x_y_uses_lat_lon(tmp_path):
    document = {"timeSeries": [_series(x="4.79806560564861", y="53.09617158150832",
                                       lat="53.09617158150832", lon="4.79806560564861")]}
    point = read_pi_json(_pi_json(tmp_path, document)).meta.geometry.iloc[0]
    # MPN-N-1 of the Waalenburg export: RD New x 115535.99, y 567867.70
    assert point.x == pytest.approx(115536, abs=2) and point.y == pytest.approx(567868, abs=2)


def test_pi_xml_series_without_header_is_not_filed_under_the_previous_sensor(shared_data, tmp_path):
    text = (shared_data / "sensors" / "fews" / "test_wsvv_fews.xml").read_text(encoding="utf-8")
    second = text.index("<series>", text.index("<series>") + 1)
    start, end = text.index("<header>", second), text.index("</header>", second) + len("</header>")
    path = tmp_path / "no_header.xml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    series = read_pi_xml(path)
    whole = read_pi_xml(shared_data / "sensors" / "fews" / "test_wsvv_fews.xml")
    first = whole.meta["sensor"].iloc[0]
    assert list(series.meta["sensor"]) == [first]
    pd.testing.assert_frame_equal(series.events, whole.events[whole.events["sensor"] == first].reset_index(drop=True))
    assert "series[1] has no <header>" in series.quarantined[0].reason


def test_sensor_csv_latin1_byte_huge_flag_and_malformed_coordinate(tmp_path):
    path = tmp_path / "sensors.csv"
    path.write_bytes("sensor,time,value,unit,flag,x,y\r\n".encode("utf-8") + (
        "# logger bij de sluis \xe9\r\n"
        "STUW-1/H.meting,2025-08-01T00:00:00+02:00,-0.41,m NAP,0,121500,487300\r\n"
        "STUW-1/H.meting,2025-08-01T00:15:00+02:00,-0.42,m NAP,99999999999999999999999,121500,487300\r\n"
        "STUW-1/H.meting,2025-08-01T00:30:00+02:00,-0.43,m NAP,0,12x500,487300\r\n"
        "STUW-1/H.meting,0001-08-01T00:45:00+02:00,-0.44,m NAP,0,121500,487300\r\n").encode("latin-1"))
    series = read_sensor_csv(path)
    assert list(series.events["value"]) == [-0.41]
    assert [q.line for q in series.quarantined] == [4, 5, 6]


# ------------------------------------------------------------------------------ overlaps, QC

def test_overlapping_layouts_of_one_well_are_reconciled(shared_data):
    old = shared_data / "groundwater" / "dino-2019"
    nap, derived = read_dino_csv(old / "B33F0080002_1.csv"), read_dino_csv(old / "B33F0080002_0.csv")
    rows, conflicts, dropped = reconcile([(old / "B33F0080002_1.csv", nap.levels),
                                          (old / "B33F0080002_0.csv", derived.levels)],
                                         ["well", "time"], ["level_m_nap", "remark"])
    assert not rows.duplicated(["well", "time"]).any()
    # DINO's own NAP levels (measuring point) and those from depth below surface differ by
    # 4 cm from July 2004 on (the well table's surface and measuring point disagree)
    assert dropped == 678 and len(conflicts) == 3195
    pd.testing.assert_frame_equal(rows[rows["time"].isin(nap.levels["time"])].reset_index(drop=True),
                                  nap.levels.reset_index(drop=True))  # the NAP layout wins
    assert all("B33F0080002_1.csv" in q.reason and q.path.name == "B33F0080002_0.csv" for q in conflicts)


def test_sensor_qc_follows_parameter_and_unit():
    thresholds = thresholds_with(None)
    assert sensor_thresholds("H.meting", "mm", thresholds) is None  # rain is not a water level
    assert sensor_thresholds("F.vulling", "%", thresholds) is None
    in_cm = sensor_thresholds("H.meting", "cm", thresholds)
    assert in_cm["spike"] == pytest.approx(50.0) and in_cm["max"] == pytest.approx(35_000.0)
    own = sensor_thresholds("H.meting", "m", thresholds, [("*", "m", {"spike": 1.0}),
                                                          ("H.meting", "m", {"spike": 0.2})])
    assert own["spike"] == 0.2 and own["flatline_count"] == thresholds["water_level"]["flatline_count"]


def test_flows_store_every_good_file_and_report_the_bad(shared_data, prefect_harness, tmp_path):
    from pipelines.demo import write_demo
    from pipelines.ingest.flows import ingest_all

    config_path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                             archive_dir=tmp_path / "archive")
    setup = yaml.safe_load(config_path.read_text())
    # one KNMI station with a bad record: the quarantine must not ride into the Parquet metadata
    lines = _knmi_lines(shared_data)
    lines[-1] = "  348,2026062"
    knmi = _write_knmi(tmp_path, lines)
    setup["stations"] = [{"id": "348", "name": "Cabauw", "x": 122000, "y": 442000, "file": str(knmi)},
                         {"id": "550", "name": "De Bilt", "x": 140000, "y": 456000, "format": "knmi-rain-gauge",
                          "file": str(shared_data / "knmi" / "rain-gauges" / "neerslaggeg_DE-BILT_550.txt")}]
    old = shared_data / "groundwater" / "dino-2019"
    setup["wells"] = [{"file": str(old / "B33F0080002_0.csv")}, {"file": str(old / "B33F0080002_1.csv")},
                      {"file": str(shared_data / "groundwater" / "dino-2024" / "B02H0092001.csv")},
                      {"file": str(old / "B02H0092001_1.csv")}]
    # radar rain (mm) is refused as a water level; two bad events of one reason in one PI-JSON
    bad = _series(events=[{"date": "2025-08-01", "time": "xx", "value": "1", "flag": "0"},
                          {"date": "2025-08-01", "time": "yy", "value": "1", "flag": "0"},
                          {"date": "2025-08-01", "time": "02:00:00", "value": "-0.3", "flag": "0"}])
    pi_json = _pi_json(tmp_path, {"timeZone": "1.0", "timeSeries": [bad]})
    setup["sensors"] = [{"file": str(shared_data / "sensors" / "fews" / "test_wsvv_fews.xml"), "format": "pi-xml"},
                        {"file": str(pi_json), "format": "pi-json"}]
    setup["allow_inputs_from"] = [str(shared_data), str(tmp_path)]
    config_path.write_text(yaml.safe_dump(setup))

    reports = ingest_all(config_path=str(config_path))
    meteo, groundwater, sensors = reports["meteo"], reports["groundwater"], reports["sensors"]
    assert meteo.files == 2 and not meteo.failed_files and meteo.quarantined == 1
    stored = pd.read_parquet(tmp_path / "processed" / "meteo.parquet")
    assert set(stored["station"]) == {"348", "550"}
    assert groundwater.files == 4 and not groundwater.failed_files and groundwater.duplicates_dropped == 678
    levels = pd.read_parquet(tmp_path / "processed" / "groundwater.parquet")
    assert not levels.duplicated(["well", "time"]).any()
    assert set(levels["well"]) == {"B33F0080-002"}  # B02H0092 has no NAP level in either file
    assert len(sensors.failed_files) == 1 and "test_wsvv_fews.xml: holds no water-level series" in \
        sensors.failed_files[0]
    events = pd.read_parquet(tmp_path / "processed" / "sensors.parquet")
    assert list(events["value"]) == [-0.3]
    quarantine = pd.read_parquet(tmp_path / "processed" / "quarantine.parquet")
    from_json = quarantine[quarantine["path"] == str(pi_json)]
    assert len(from_json) == 2  # same reason, two records
    conflicts = quarantine[quarantine["reason"].str.contains("is also in B33F0080002_1.csv")]
    assert len(conflicts) > 0 and (conflicts["path"] == str((old / "B33F0080002_0.csv").resolve())).all()  # setups name files after following links


# --------------------------------------------------------------------------- configuration

def _setup_with(tmp_path: Path, **extra) -> Path:
    from pipelines.demo import write_demo

    config_path = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                             archive_dir=tmp_path / "archive")
    setup = yaml.safe_load(config_path.read_text())
    setup.update(extra)
    config_path.write_text(yaml.safe_dump(setup))
    return config_path


def test_ingest_settings_are_read_and_checked(tmp_path):
    from pipelines.config import ConfigError, load_config

    config = load_config(_setup_with(tmp_path, ingest={
        "first_plausible_date": "1900-01-01", "plausible_days_ahead": 0, "pi_series_identity": "full",
        "sensor_qc": [{"parameter": "H.meting", "unit": "cm", "spike": 30}]}))
    assert config.ingest.first_plausible_date.isoformat() == "1900-01-01"
    assert config.ingest.pi_series_identity == "full"
    assert config.ingest.sensor_qc[0].tests == {"spike": 30.0}
    assert all(s.format == "knmi-daily" for s in config.stations)
    with pytest.raises(ConfigError, match=r"ingest.pi_series_identity"):
        load_config(_setup_with(tmp_path / "a", ingest={"pi_series_identity": "model"}))
    with pytest.raises(ConfigError, match=r"ingest.sensor_qc\[0\].unit: sensors.parquet holds water levels"):
        load_config(_setup_with(tmp_path / "b", ingest={"sensor_qc": [{"parameter": "F", "unit": "%", "max": 100}]}))


def test_droogte_ingest_exits_3_and_names_the_failed_file(tmp_path, prefect_harness, capsys):
    from pipelines.cli import EXIT_DEGRADED, EXIT_OK, main

    config_path = _setup_with(tmp_path)
    setup = yaml.safe_load(config_path.read_text())
    broken = config_path.parent / setup["stations"][1]["file"]
    assert main(["ingest", "--config", str(config_path), "--source", "meteo"]) == EXIT_OK
    broken.write_text("not a KNMI file\n")
    assert main(["ingest", "--config", str(config_path), "--source", "meteo"]) == EXIT_DEGRADED
    err = capsys.readouterr().err
    assert f"not ingested: {broken.resolve()}" in err and "STN,YYYYMMDD" in err
