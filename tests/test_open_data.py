"""Open data: stable schema, WGS84, allow-list only, metadata that describes the files."""

from __future__ import annotations

import csv
import hashlib
import json

import geopandas as gpd
import pytest

from dashboards.open_data import OPEN_DATA_COLUMNS, write_open_data
from dashboards.public_record import checked_metadata, public_districts
from tests.synthetic import synthetic_districts, synthetic_metadata


@pytest.fixture
def published(tmp_path):
    districts = synthetic_districts(12, seed=4)
    districts["permit_holder"] = "J. Jansen"
    districts.loc[0, "name"] = 'Polder "Oost", <b>noord</b>'
    write_open_data(public_districts(districts), checked_metadata(synthetic_metadata()), tmp_path)
    return tmp_path, districts


def test_geojson_is_wgs84_with_exactly_the_published_columns(published):
    folder, districts = published
    read = gpd.read_file(folder / "restrictions.geojson")
    assert read.crs.equals("EPSG:4326")
    assert [c for c in read.columns if c != "geometry"] == list(OPEN_DATA_COLUMNS)
    expected = districts.sort_values("district_id")
    assert list(read["district_id"]) == list(expected["district_id"])
    assert list(read["name"]) == list(expected["name"])
    # 6 decimals in WGS84 are about 0.1 m; compared in RD New (metres)
    in_rd = read.geometry.to_crs("EPSG:28992")
    assert in_rd.hausdorff_distance(expected.geometry.reset_index(drop=True), align=False).max() < 0.15
    raw = json.loads((folder / "restrictions.geojson").read_text(encoding="utf-8"))
    x = raw["features"][0]["geometry"]["coordinates"][0][0][0]
    assert len(repr(x).split(".")[1]) <= 6


def test_csv_has_the_documented_header_and_one_row_per_district(published):
    folder, districts = published
    with open(folder / "restrictions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(OPEN_DATA_COLUMNS)
    assert len(rows) == len(districts)
    assert {r["groundwater_ban"] for r in rows} <= {"true", "false"}
    assert rows[0]["name"] == 'Polder "Oost", <b>noord</b>'  # data, kept exactly
    assert rows[0]["issued_at"] == "2026-07-14T06:00:00+00:00"


def test_no_private_column_reaches_open_data(published):
    folder, _ = published
    for path in folder.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "Jansen" not in text and "permit_holder" not in text, path.name


def test_metadata_describes_the_issue_and_the_files(published):
    folder, _ = published
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["issued_at"] == "2026-07-14T06:00:00+00:00"
    assert meta["valid_from"] == "2026-07-15"
    assert meta["data_ages"]["groundwater"] == "2026-07-09T00:00:00+00:00"
    assert meta["software_version"] == "0.1.0" and meta["setup_name"] == "demo"
    assert meta["columns"] == list(OPEN_DATA_COLUMNS) and meta["crs"] == "EPSG:4326"
    for name, facts in meta["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == facts["sha256"]
