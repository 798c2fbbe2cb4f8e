"""The national reference geography the project carries reads as valid polygons with codes and names."""
from __future__ import annotations

import pytest

from pipelines.reference.geography import reference_layer


@pytest.mark.parametrize(("layer", "count", "prefix"), [("water_boards", 21, ("WS", "WBL")), ("provinces", 12, ("PV",)), ("municipalities", 342, ("GM",))])
def test_layers_are_whole_and_valid(layer, count, prefix):
    frame = reference_layer(layer, crs="EPSG:28992")
    assert len(frame) == count
    assert frame.is_valid.all()
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    assert frame["code"].map(lambda code: code.startswith(prefix)).all()  # WBL: Limburg, former name
    assert frame["name"].str.len().gt(0).all()
    # RD New metres: the Netherlands lies within x 0-300 km, y 289-629 km.
    minx, miny, maxx, maxy = frame.total_bounds
    assert 0 < minx and maxx < 300_000 and 289_000 < miny and maxy < 629_000


def test_unknown_layer_names_the_choices():
    with pytest.raises(ValueError, match="municipalities"):
        reference_layer("towns")
