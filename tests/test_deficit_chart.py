"""The deficit chart draws KNMI's series against its climatology (1906-2019, 1976, 2018)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboards.charts import deficit_chart
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
def test_chart_of_2022_against_knmi_climatology(knmi_series):
    table = climatology.deficit_climatology(knmi_series)
    current = knmi_series["2022-04-01":"2022-08-15"]
    chart = deficit_chart(current, table, scope_nl="Nederland", scope_en="the Netherlands")
    assert chart.facts["deficit_mm"] == pytest.approx(knmi_series["2022-08-15"])
    assert chart.facts["year_1976_mm"] == pytest.approx(knmi_series["1976-08-15"])
    for lang, words in (("nl", ("mediaan", "5 % droogste jaren", "aug")), ("en", ("median", "5 % driest years"))):
        svg = chart.svg[lang]
        assert svg.startswith("<svg") and 'aria-hidden="true"' in svg and "viewBox" in svg
        assert all(w in svg for w in words) and "1976" in svg and "2018" in svg
        assert 20_000 < len(svg) < 200_000  # real text, paths only for the lines
    assert "(1906-2019)" in chart.alt["nl"]
