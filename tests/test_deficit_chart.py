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


def test_deficit_percentile_ranks_a_day_among_earlier_years_only():
    import pandas as pd

    # 20 years whose deficit on every day equals its rank 1..20 (mm), shuffled over the years
    years = list(range(2000, 2020))
    values = dict(zip(years, np.random.default_rng(1).permutation(np.arange(1.0, 21.0)), strict=True))
    days = pd.DatetimeIndex([d for y in years for d in pd.date_range(f"{y}-04-01", f"{y}-09-30")])
    reference = pd.Series([values[d.year] for d in days], index=days)
    current = pd.Series([10.0, 25.0, 0.0, np.nan], index=pd.to_datetime(["2020-07-01", "2020-07-02", "2020-07-03", "2020-07-04"]))
    got = climatology.deficit_percentile(reference, current)
    assert got.iloc[:3].tolist() == [47.5, 100.0, 0.0]  # 9 below, one equal (half); above all; below all
    assert np.isnan(got.iloc[3])
    # a day in 2010 sees only 2000-2009 (10 years); in 2009, 9 years: too few, NaN
    assert not np.isnan(climatology.deficit_percentile(reference, pd.Series([5.0], index=[pd.Timestamp("2010-05-01")])).iloc[0])
    assert np.isnan(climatology.deficit_percentile(reference, pd.Series([5.0], index=[pd.Timestamp("2009-05-01")])).iloc[0])
    # the year itself and later years never count: the 2005 value is not compared with 2005-2019
    later = reference.copy()
    later[later.index.year >= 2015] = 1000.0
    assert climatology.deficit_percentile(later, pd.Series([10.0], index=[pd.Timestamp("2015-06-01")])).iloc[0] == \
        climatology.deficit_percentile(reference, pd.Series([10.0], index=[pd.Timestamp("2015-06-01")])).iloc[0]
