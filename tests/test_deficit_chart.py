"""The deficit chart renders a real PNG from KNMI's series and its climatology."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from dashboards.deficit_chart import deficit_chart
from models.indicators import climatology


@pytest.fixture(scope="module")
def knmi_series(shared_data):
    return climatology.read_int_nl(shared_data / "knmi" / "national-deficit" / "int_nl.dat")


@pytest.mark.realdata
def test_climatology_from_int_nl(knmi_series):
    table = climatology.deficit_climatology(knmi_series)
    assert len(table) == 183 and list(table.columns) == ["median", "driest_5pct", "1976", "2018"]
    # independent check on one day: the median of 30 September over 1906-2019
    september = knmi_series[(knmi_series.index.strftime("%m-%d") == "09-30")]
    reference = september[(september.index.year >= 1906) & (september.index.year <= 2019)]
    assert len(reference) == 114
    assert table.loc["09-30", "median"] == pytest.approx(np.median(reference))
    assert (table["driest_5pct"] >= table["median"]).all()
    assert table.loc["09-30", "1976"] == knmi_series["1976-09-30"]


def test_int_nl_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "int_nl.dat"
    path.write_text("# header\n20220401\t1.5\n2022040x\t2\n")
    with pytest.raises(ValueError, match=r"int_nl.dat, line 3"):
        climatology.read_int_nl(path)


@pytest.mark.realdata
def test_chart_is_a_valid_png(knmi_series, tmp_path):
    table = climatology.deficit_climatology(knmi_series)
    current = knmi_series["2022-04-01":"2022-08-15"]
    target = tmp_path / "deficit.png"
    png = deficit_chart(current, table, title="Nederland: neerslagtekort 2022", path=target)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and target.read_bytes() == png
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 1200 and 300 <= height <= 700
    assert 10_000 < len(png) < 500_000


@pytest.mark.parametrize("name", ["$\\frac{", "Polder $x$ en $", "$\\undefinedcommand$"])
def test_a_title_with_mathtext_characters_is_drawn_as_text(name):
    import pandas as pd

    days = pd.date_range("2025-04-01", periods=30, freq="D")
    current = pd.Series(np.linspace(0, 60, 30), index=days)
    climatology_table = pd.DataFrame({"median": np.linspace(0, 40, 30), "driest_5pct": np.linspace(0, 90, 30)},
                                     index=days.strftime("%m-%d"))
    png = deficit_chart(current, climatology_table, title=f"Neerslagtekort {name}")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
