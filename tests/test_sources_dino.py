"""DINOloket groundwater exports in all three layouts, real files and edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest.sources.dino import read_dino_csv
from pipelines.ingest.sources.errors import BadRecord, SourceFormatError

OLD_WELL_TABLE = (
    "LOCATIE,FILTERNUMMER,EXTERNE AANDUIDING,X-COORDINAAT,Y-COORDINAAT,MAAIVELD NAP,GESCHAT,"
    "MEETPUNT NAP,BOVENKANT FILTER,ONDERKANT FILTER,START DATUM,EIND DATUM\n"
    "B99X0001,001,99XP0001,100000,450000,500,,520,100,50,2000/01/01,2010/01/01\n"
    "B99X0001,001,99XP0001,100000,450000,450,,470,100,50,2010/01/01,2020/01/01\n"
)


def _level(record, day: str) -> float:
    rows = record.levels[record.levels["time"] == pd.Timestamp(day)]
    assert len(rows) == 1
    return float(rows["level_m_nap"].iloc[0])


def test_every_shared_file_ingests(shared_data: Path) -> None:
    paths = sorted((shared_data / "groundwater").glob("dino-*/*.csv"))
    assert len(paths) == 44
    for path in paths:
        record = read_dino_csv(path)
        text = path.read_text(encoding="latin-1")
        data_rows = sum(
            1 for line in text.splitlines()[1:]
            if line.lstrip('"').startswith("B") and line.count("/") + line.count("-") >= 2
        )
        well_rows = len(record.history)
        assert len(record.levels) + well_rows + len(record.quarantined) == data_rows, path
        assert record.wells.crs.to_epsg() == 28992
        levels = record.levels["level_m_nap"].dropna()
        # Dutch groundwater lies between about -10 and +60 m NAP
        assert levels.between(-10, 60).all(), path


def test_known_levels_in_m_nap_agree_across_layouts(shared_data: Path) -> None:
    old = shared_data / "groundwater" / "dino-2019"
    with_nap = read_dino_csv(old / "B33F0080001_1.csv")
    below_surface = read_dino_csv(old / "B33F0080001_0.csv")
    # _1: "28-11-1972 ... Stand (cm t.o.v NAP) 576"; _0: surface 685 cm NAP, STAND (MV) 109
    assert _level(with_nap, "1972-11-28") == pytest.approx(5.76)
    assert _level(below_surface, "1972-11-28") == pytest.approx(5.76)
    merged = with_nap.levels.merge(below_surface.levels, on=["well", "time"])
    assert len(merged) == len(with_nap.levels) == 3988
    np.testing.assert_allclose(merged["level_m_nap_x"], merged["level_m_nap_y"], atol=1e-9)
    well = with_nap.wells.iloc[0]
    assert well["well"] == "B33F0080-001" and well["filter"] == "001"
    assert (well.geometry.x, well.geometry.y) == (213260.0, 473900.0)
    assert well["surface_m_nap"] == pytest.approx(6.92)
    assert (well["filter_top_m_nap"], well["filter_bottom_m_nap"]) == pytest.approx((3.85, 2.85))


def test_quoted_2024_layout(shared_data: Path) -> None:
    record = read_dino_csv(shared_data / "groundwater" / "dino-2024" / "B02H0089001.csv")
    # "B02H0089","001","15-10-1952","49","64","62"
    assert _level(record, "1952-10-15") == pytest.approx(0.62)
    assert record.wells["surface_m_nap"].iloc[0] == pytest.approx(1.03)
    assert len(record.history) == 4


@pytest.mark.parametrize(
    "name", ["dino-2019/B37A0112001_0.csv", "dino-2019/B37A0112001_1.csv", "dino-2024/B31H0137001.csv"]
)
def test_well_without_readings_gives_empty_levels(shared_data: Path, name: str) -> None:
    record = read_dino_csv(shared_data / "groundwater" / name)
    assert record.levels.empty
    assert list(record.levels.columns) == ["well", "time", "level_m_nap", "remark"]


def test_real_quirks(shared_data: Path) -> None:
    old = shared_data / "groundwater" / "dino-2019"
    # two readings on 19-11-2019 (measuring point changed that day): the last is kept
    record = read_dino_csv(old / "B22D0155001_1.csv")
    assert _level(record, "2019-11-19") == pytest.approx(8.81)
    assert [item.line for item in record.quarantined] == [3006]
    # remarks with a lone '"' in an unquoted file do not swallow the following rows
    assert len(read_dino_csv(old / "B39A0235002_1.csv").levels) == 557


def test_below_surface_uses_the_surface_valid_at_the_date(tmp_path: Path) -> None:
    path = tmp_path / "B99X0001001_0.csv"
    path.write_text(
        "Titel: \nReferentie: Maaiveld (MV)\n\n" + OLD_WELL_TABLE + "\n"
        "LOCATIE,FILTERNUMMER,PEIL DATUM TIJD,STAND (MV),BIJZONDERHEID\n"
        "B99X0001,001,1999/06/01 00:00:00,100,\n"
        "B99X0001,001,2005/06/01 00:00:00,100,\n"
        "B99X0001,001,2015/06/01 00:00:00,100,\n"
        "B99X0001,001,2016/13/01 00:00:00,100,\n"
        "B99X0001,001,2017/06/01 00:00:00,,D\n"
    )
    record = read_dino_csv(path)
    # before the first period the first surface applies; from 2010 the surface is 4.50 m
    assert record.levels["level_m_nap"].tolist()[:3] == pytest.approx([4.0, 4.0, 3.5])
    assert np.isnan(record.levels["level_m_nap"].iloc[3])
    assert record.levels["remark"].tolist() == ["", "", "", "D"]
    [bad] = record.quarantined
    assert bad.line == 12 and "2016/13/01" in bad.text
    with pytest.raises(SourceFormatError, match="B99X0001001_0.csv, line 12"):
        read_dino_csv(path, on_bad_record=BadRecord.RAISE)


def test_garbage_and_truncation_in_the_new_layout(tmp_path: Path) -> None:
    path = tmp_path / "B99X0001001.csv"
    path.write_text(
        '"Referentie:","NAP"\n,,\n'
        '"Locatie","Filternummer","Peildatum","Stand (cm t.o.v. MP)","Stand (cm t.o.v. MV)",'
        '"Stand (cm t.o.v NAP)","Bijzonderheid","Opmerking"\n'
        '"B99X0001","001","01-01-2020","10","20","-35","",""\n'
        '"B99X0001","001","@@garbage@@"\n'
        '"B99X0001","001","15-01-2020","10","20","-3'
    )
    record = read_dino_csv(path)
    assert record.levels["level_m_nap"].tolist() == pytest.approx([-0.35, -0.03])
    assert [item.line for item in record.quarantined] == [5]
    assert record.wells.empty


def test_not_a_dino_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(SourceFormatError, match="notes.csv.*well table"):
        read_dino_csv(path)
