"""The national source from the river: the supply model, the outlook's discharge members, the
readers of the Lobith discharge, and the national escalation by the LCW criteria."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.allocation.river_supply import PARAMETERS, RiverSupplyModel, discharge_members
from models.restrictions.escalation import EscalationRules, escalation_levels
from pipelines.ingest.sources.errors import BadRecord, SourceFormatError
from pipelines.ingest.sources.rijkswaterstaat import read_discharge


def test_supply_follows_the_documented_chain():
    model = RiverSupplyModel(minimum_flow_m3_s=500, regional_fraction=0.2, max_regional_m3_s=100, setup_share=0.5)
    q = np.array([0.0, 500.0, 800.0, 1500.0, 5000.0])
    expected = 0.5 * np.minimum(100.0, 0.2 * np.maximum(q - 500.0, 0)) * 86_400
    np.testing.assert_allclose(model.supply_m3_day(q), expected)
    assert model.supply_m3_day(800.0) == pytest.approx(0.5 * 60 * 86_400)  # m³/s → m³/day
    assert np.isnan(model.supply_m3_day(np.array([np.nan]))[0])  # a missing day stays missing


def test_supply_never_falls_as_the_river_rises():
    model = RiverSupplyModel()
    q = np.linspace(0, 12_000, 500)
    supply = model.supply_m3_day(q)
    assert (np.diff(supply) >= 0).all() and (supply >= 0).all()
    assert supply.max() == pytest.approx(model.max_regional_m3_s * 86_400)


def test_defaults_are_documented_and_reported_as_assumed():
    for name, parameter in PARAMETERS.items():
        assert parameter.unit and parameter.source, name
        assert parameter.typical[0] <= parameter.default <= parameter.typical[1], name
    assert RiverSupplyModel(regional_fraction=0.2).assumed({"regional_fraction"}) == [
        "minimum_flow_m3_s", "max_regional_m3_s", "setup_share"]
    with pytest.raises(ValueError, match="regional_fraction"):
        RiverSupplyModel(regional_fraction=1.5)


def _series(values_by_year: dict[int, list[float]], start="07-01") -> pd.Series:
    parts = []
    for year, values in values_by_year.items():
        days = pd.date_range(f"{year}-{start}", periods=len(values), freq="D")
        parts.append(pd.Series(values, index=days, dtype=float))
    return pd.concat(parts)


def test_each_member_applies_its_years_relative_change_to_todays_discharge():
    history = _series({2001: [2000, 1000, 3000, 4000], 2002: [1000, 1100, 1200, 900], 2022: [800, 750]})
    members = discharge_members(history, start=pd.Timestamp("2022-07-02"), horizon_days=3, years=[2001, 2002])
    # today (1 July 2022) is 800 m³/s; 2001 halves and then rises, 2002 rises by 10 %, 20 % ...
    np.testing.assert_allclose(members[2001], [400, 1200, 1600])
    np.testing.assert_allclose(members[2002], [880, 960, 720])


def test_a_dry_river_stays_dry_in_every_member(shared_data):
    lobith = read_discharge(shared_data / "rijkswaterstaat" / "lobith_discharge_daily.csv")
    today = pd.Timestamp("2022-08-15")
    members = discharge_members(lobith.loc[:today], start=today + pd.Timedelta(days=1), horizon_days=14,
                                years=range(1950, 2022))
    assert len(members) == 72
    first_week = np.array([m[:7] for m in members.values()])
    # persistence: in a week the low river moves by its own years' ratios, not to the mean (2,200)
    assert np.median(first_week) < 1.1 * lobith.loc[today]
    assert (first_week < 2000).mean() > 0.9


SERVICES_HEADER = (
    "MONSTER_IDENTIFICATIE;MEETPUNT_IDENTIFICATIE;LOCATIE_CODE;TYPERING_OMSCHRIJVING;TYPERING_CODE;"
    "GROOTHEID_OMSCHRIJVING;GROOTHEID_ CODE;PARAMETER_OMSCHRIJVING;PARAMETER_ CODE;EENHEID_CODE;"
    "HOEDANIGHEID_OMSCHRIJVING;HOEDANIGHEID_CODE;WAARNEMINGDATUM;WAARNEMINGTIJD (MET/CET);LIMIETSYMBOOL;"
    "NUMERIEKEWAARDE;ALFANUMERIEKEWAARDE;KWALITEITSOORDEEL_CODE;STATUSWAARDE;EPSG;X;Y"
)


def _row(place: str, code: str, day: str, time: str, value: str, quantity: str = "Q") -> str:
    return (f";{place};{code};;;Debiet;{quantity};;;m3/s;;;{day};{time};;{value};;Normale waarde;"
            f"Ongecontroleerd;25831;713748,8;5748949,7")


def test_services_export_is_read_in_met_and_averaged_per_amsterdam_day(tmp_path):
    rows = [
        _row("Lobith", "LOBI", "14-08-2022", "22:50:00", "700,0"),   # MET 22:50 = CEST 23:50: 14 August
        _row("Lobith", "LOBI", "14-08-2022", "23:10:00", "900,0"),   # MET 23:10 = CEST 00:10: 15 August
        _row("Lobith", "LOBI", "15-08-2022", "12:00:00", "700,0"),
        _row("Lobith", "LOBI", "15-08-2022", "12:10:00", "999999999"),  # the services' "no value"
        _row("Lobith", "LOBI", "15-08-2022", "12:20:00", "123", quantity="WATHTE"),  # a water level: not discharge
    ]
    path = tmp_path / "20221116_018.csv"
    path.write_bytes(("\n".join([SERVICES_HEADER, *rows]) + "\n").encode("cp1252"))
    series = read_discharge(path)
    assert series.attrs["units"] == "m3/s"
    assert series.loc["2022-08-14"] == pytest.approx(700.0)
    assert series.loc["2022-08-15"] == pytest.approx(800.0)  # (900 + 700) / 2; the code 999999999 left out
    assert len(series) == 2


def test_services_export_quarantines_bad_rows_and_names_them(tmp_path):
    rows = [_row("Lobith", "LOBI", "14-08-2022", "12:00:00", "700,0"),
            _row("Lobith", "LOBI", "32-08-2022", "12:00:00", "700,0"),
            _row("Lobith", "LOBI", "15-08-2022", "12:00:00", "veel")]
    path = tmp_path / "export.csv"
    path.write_text("\n".join([SERVICES_HEADER, *rows]) + "\n", encoding="utf-8")
    series = read_discharge(path)
    assert [q.line for q in series.attrs["quarantined"]] == [3, 4]
    with pytest.raises(SourceFormatError, match=r"export.csv, line 3"):
        read_discharge(path, on_bad_record=BadRecord.RAISE)


def test_services_export_with_several_locations_needs_one_named(tmp_path):
    rows = [_row("Lobith", "LOBI", "14-08-2022", "12:00:00", "700"),
            _row("Eijsden grens", "EIJS", "14-08-2022", "12:00:00", "30")]
    path = tmp_path / "two.csv"
    path.write_text("\n".join([SERVICES_HEADER, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="several locations"):
        read_discharge(path)
    assert read_discharge(path, location="Lobith").loc["2022-08-14"] == 700
    assert read_discharge(path, location="EIJS").loc["2022-08-14"] == 30


def test_daily_series_wrong_header_is_refused(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("datum,afvoer\n2022-08-14,700\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="expected the header 'date,discharge_m3_s'"):
        read_discharge(path)


def test_real_lobith_series_has_the_documented_low_flows(shared_data):
    lobith = read_discharge(shared_data / "rijkswaterstaat" / "lobith_discharge_daily.csv")
    assert lobith.index[0] == pd.Timestamp("1901-01-01") and not lobith.isna().any()
    assert lobith.loc["2018"].min() == pytest.approx(732, abs=1) and lobith.loc["2018"].idxmin() == pd.Timestamp("2018-10-29")
    assert lobith.loc["2022"].min() == pytest.approx(679, abs=1)
    assert lobith.mean() == pytest.approx(2211, rel=0.01)
    assert lobith.attrs["quarantined"] == []


def _national(discharge, percentile):
    decisions = pd.DataFrame({"district_id": ["A"], "water_board": ["W"], "restriction": ["none"],
                              "valid_from": [pd.Timestamp("2022-04-01")], "valid_until": [pd.NaT]})
    summary = pd.DataFrame(columns=["date", "district_id", "category", "demand_m3_day", "shortage_m3_day"])
    districts = pd.DataFrame({"district_id": ["A"], "water_board": ["W"], "area_m2": [1e6]})
    table = escalation_levels(decisions, summary, districts, day=pd.Timestamp("2022-08-15").date(),
                              rules=EscalationRules(), discharge_m3_s=discharge, deficit_percentile=percentile)
    return table.set_index("water_board").loc["NL"]


def test_national_level_follows_the_lcw_discharge_criteria_only_when_dry():
    assert _national(None, None)["level"] == 0
    assert _national(1500, 95)["level"] == 0
    assert _national(1350, 85)["level"] == 1
    low = _national(1100, 95)
    assert low["level"] == 2 and "Lobith 1,100 m³/s, below 1,200 m³/s" in low["reason_en"]
    assert "drier than in 95% of earlier years" in low["reason_en"]
    assert "1.100 m³/s" in low["reason_nl"]
    assert _national(1100, 85)["level"] == 1  # among the driest 20 % but not the driest 10 %
    assert _national(700, 70)["level"] == 0  # a low river in a country that is not dry is no shortage
    assert _national(700, None)["level"] == 2  # no climatology known: the river alone
