"""``droogte init``: a setup that loads and runs, from the user's polygons or the public boundaries."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml

from models.allocation.district_defaults import DEFAULTS
from pipelines.cli import main
from pipelines.config import load_config
from pipelines.setup_init import InitError, init_setup

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


@pytest.fixture
def knmi_folder(tmp_path) -> Path:
    """A data folder with one KNMI daily file of station 340 (Woensdrecht), in KNMI's layout."""
    folder = tmp_path / "data" / "knmi"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "knmi" / "etmgeg_340_no_ev24.txt", folder / "etmgeg_340.txt")
    return tmp_path / "data"


def _own_districts(path: Path) -> Path:
    """Three districts near Bergen op Zoom in WGS84: one valid, one bow-tie (invalid), one sliver."""
    square = shapely.box(4.26, 51.47, 4.30, 51.50)
    bowtie = shapely.Polygon([(4.31, 51.47), (4.35, 51.50), (4.35, 51.47), (4.31, 51.50)])
    sliver = shapely.box(4.36, 51.47, 4.3601, 51.4701)
    frame = gpd.GeoDataFrame({"code": ["A1", "B2", "C3"], "naam": ["Oost", "Strik", "Snipper"],
                              "open_water_share": [0.12, None, None]},
                             geometry=[square, bowtie, sliver], crs="EPSG:4326")
    frame.to_file(path, driver="GPKG")
    return path


def test_own_polygons_repaired_placed_and_defaulted(tmp_path, knmi_folder):
    districts = _own_districts(tmp_path / "gebieden.gpkg")
    report = init_setup(tmp_path / "setup", data=[knmi_folder], districts_file=districts, id_column="code",
                        name_column="naam")
    assert report.repaired == 1
    assert len(report.dropped) == 1 and report.dropped[0].startswith("C3 (Snipper")
    assert report.stations == ["340"]
    config = load_config(report.config)  # the setup runs as written: it validates
    assert [(s.id, s.file.name) for s in config.stations] == [("340", "etmgeg_340.txt")]
    assert config.source.supply_m3_day is not None  # no discharge found: a constant, said in the file
    written = gpd.read_file(config.districts)
    assert written.crs.to_epsg() == 28992 and written.is_valid.all()
    assert list(written["district_id"]) == ["A1", "B2"]
    assert set(written["water_board"]) == {"WS22"}  # Brabantse Delta, by largest overlap
    a1, b2 = written.set_index("district_id").loc["A1"], written.set_index("district_id").loc["B2"]
    assert a1["open_water_share"] == 0.12 and "open_water_share" not in a1["assumed"].split(",")
    assert b2["open_water_share"] == DEFAULTS["open_water_share"].value
    assert set(b2["assumed"].split(",")) == set(DEFAULTS)
    assert b2["inlet_capacity_m3_day"] == pytest.approx(DEFAULTS["inlet_capacity_m3_day"].value * b2.geometry.area,
                                                        rel=1e-3)
    text = report.config.read_text()
    assert "ASSUMED VALUES: 2 of 2 districts" in text and "inlet_capacity_m3_day: 0.001 per m2" in text


def test_own_polygons_errors_name_the_option(tmp_path, knmi_folder):
    districts = _own_districts(tmp_path / "gebieden.gpkg")
    with pytest.raises(InitError, match=r"--id-column 'id' is not a column; columns are \['code', 'naam'"):
        init_setup(tmp_path / "s", data=[knmi_folder], districts_file=districts, id_column="id")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InitError, match="no KNMI daily station file"):
        init_setup(tmp_path / "s", data=[empty], districts_file=districts, id_column="code")
    with pytest.raises(InitError, match="no water board matches 'Atlantis'"):
        init_setup(tmp_path / "s", data=[knmi_folder], boards=["Atlantis"])


def test_cli_init_reports_and_exits_2_on_bad_input(tmp_path, knmi_folder, capsys):
    districts = _own_districts(tmp_path / "gebieden.gpkg")
    assert main(["init", "--out", str(tmp_path / "cli"), "--districts", str(districts), "--id-column", "code",
                 "--data", str(knmi_folder)]) == 0
    out = capsys.readouterr().out
    assert "dropped       1 sliver(s): C3 (C3, 0.000 km²)" in out and "next: droogte run --config" in out
    assert main(["init", "--out", str(tmp_path / "cli2"), "--boards", "Atlantis", "--data", str(knmi_folder)]) == 2
    assert "no water board matches" in capsys.readouterr().err


def test_public_boundaries_of_one_board_from_the_real_data(tmp_path, shared_data):
    report = init_setup(tmp_path / "schieland", data=[shared_data], boards=["WS26"])
    config = load_config(report.config)
    districts = gpd.read_file(config.districts)
    assert set(districts["water_board"]) == {"WS26"} and report.water_boards == ["WS26"]
    assert districts.is_valid.all() and (districts.area >= 1e6).all()
    assert districts["district_id"].str.match(r"^WS26-GM\d{4}$").all()
    assert "Rotterdam" in set(districts["name"])
    # the stations come from the carried table, with files from the folder: nothing typed in
    assert {s.id for s in config.stations} <= {"249", "251", "257", "269", "273", "277", "278", "279", "286", "340", "348"}
    assert config.source.discharge.name == "lobith_discharge_daily.csv"
    assert config.knmi_national_deficit.name == "int_nl.dat"
    share = yaml.safe_load(report.config.read_text())["source"]["river_model"]["setup_share"]
    assert 0 < share < 0.02  # Schieland is a small part of the 21 boards
    assert config.source.river_model_assumed == ("minimum_flow_m3_s", "regional_fraction", "max_regional_m3_s")
    # nothing of ../shared/data is copied into the setup folder
    assert sorted(p.name for p in (tmp_path / "schieland").iterdir()) == ["districts.geojson", "droogte.yaml"]


def test_national_setup_has_the_21_boards_and_the_real_files(tmp_path, shared_data):
    report = init_setup(tmp_path / "nl", data=[shared_data], boards=["all"])
    config = load_config(report.config)
    assert len(config.water_boards) == 21 and report.districts > 300
    assert len(config.stations) == 11 and report.wells >= 10 and report.sensors >= 1
    wells = pd.Series([w.file.name[:11] for w in config.wells])
    assert not wells.duplicated().any()  # one export per well: readings are not repeated
    assert yaml.safe_load(report.config.read_text())["source"]["river_model"]["setup_share"] == 1.0
