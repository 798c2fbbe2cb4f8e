"""Outlook ensemble: members from past years, summarised; a Dask cluster gives the serial result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.allocation.outlook import ShortageSummary, outlook
from models.allocation.verdringingsreeks import PriorityOrder
from tests.test_allocation import districts_frame

ORDER = PriorityOrder.default()
BOARDS = pd.DataFrame({"water_board": ["WBA"], "inlet_capacity_m3_day": [6_000.0]})


def history(stations=("260", "348"), years=range(2001, 2007), seed=3) -> xr.Dataset:
    time = pd.date_range(f"{min(years)}-01-01", f"{max(years)}-12-31")
    rng = np.random.default_rng(seed)
    shape = (len(time), len(stations))
    wetness = rng.uniform(0.3, 3.0, (len(time) // 366 + 1))[np.asarray(time.year - min(years))]
    return xr.Dataset(
        {
            "precipitation_mm": (("time", "station"), rng.gamma(0.6, 3.0, shape) * wetness[:, None]),
            "evaporation_mm": (("time", "station"), rng.uniform(1.5, 5.0, shape)),
        },
        coords={"time": time, "station": list(stations)},
    )


def run(client=None, supply=5_000.0):
    districts = districts_frame()
    mapping = pd.Series(["260", "348", "348"], index=districts["district_id"])
    return outlook(
        districts, BOARDS, history(), ORDER, start="2026-06-15", supply_m3_day=supply,
        horizon_days=30, district_station=mapping, client=client,
    )


def test_summary_quantiles_and_probability_by_hand():
    from models.allocation.outlook import fraction_bins

    summary = ShortageSummary()
    for year, fraction in zip(range(4), [0.0, 0.25, 0.5, 0.9]):
        short = np.zeros((2, 1, 1), np.uint8)
        short[1] = fraction > 0
        shortage, demand = np.array([[fraction * 100]]), np.array([[100.0]])
        member = {"year": year, "shortage_m3": shortage, "demand_m3": demand,
                  "fraction_bin": fraction_bins(short.any(axis=0), shortage, demand)}
        summary.add([member], short)
    ds = summary.to_dataset(pd.date_range("2026-07-01", periods=2), ["d"], _OneUse(), (0.5, 0.9))
    assert float(ds["shortage_probability"].item()) == 0.75
    np.testing.assert_allclose(ds["shortage_probability_daily"].values[:, 0, 0], [0, 0.75])
    np.testing.assert_allclose(ds["shortage_fraction_quantile"].values[:, 0, 0], [0.25, 0.9])
    assert float(ds["shortage_mean_m3"].item()) == pytest.approx((25 + 50 + 90) / 4)


def test_quantile_bins_as_cumulative_counts():
    """The summary's quantiles walk each histogram once; they are the first bin where the
    cumulative count reaches the quantile's share of members (0 where it never does)."""
    from models.allocation.outlook import FRACTION_BINS, _quantile_bins

    rng = np.random.default_rng(5)
    for members in (1, 3, 50):
        histogram = np.zeros((40, 3, FRACTION_BINS + 1), np.uint16)
        flat = histogram.reshape(-1, FRACTION_BINS + 1)
        for bins in rng.integers(0, FRACTION_BINS + 1, (members, flat.shape[0])) * (rng.random((members, flat.shape[0])) < 0.6):
            flat[np.arange(flat.shape[0]), bins] += 1
        needed = np.array([max(np.ceil(q * members), 1) for q in (0.0, 0.1, 0.5, 0.9, 1.0)] + [members + 1.0])
        expected = np.stack([np.argmax(np.cumsum(histogram, axis=-1) >= k, axis=-1) for k in needed])
        np.testing.assert_array_equal(_quantile_bins(histogram, needed), expected)


class _OneUse:
    """Stands in for a PriorityOrder in a one-use summary."""

    uses, categories = ("agriculture",), ("4",)


def test_outlook_members_and_sanity():
    ds = run()
    assert list(ds["member"].values) == [2001, 2002, 2003, 2004, 2005, 2006]
    assert ds["shortage_probability_daily"].dims == ("time", "district", "use")
    assert ((ds["shortage_probability"] >= 0) & (ds["shortage_probability"] <= 1)).all()
    q = ds["shortage_fraction_quantile"]
    assert (q.sel(quantile=0.9) >= q.sel(quantile=0.5)).all()
    # Supply 5,000 m³/day against ~900 m³/day of fixed uses plus dry-weather irrigation: the
    # highest steps are always served, agriculture (category 4) is short in some years.
    assert float(ds["shortage_probability"].sel(use="dike_stability").max()) == 0.0
    assert float(ds["shortage_probability"].sel(use="agriculture").max()) > 0.0
    # More supply never makes anything more likely to be short.
    ample = run(supply=50_000.0)
    assert (ample["shortage_probability"] <= ds["shortage_probability"]).all()


def test_dask_cluster_gives_the_serial_result():
    distributed = pytest.importorskip("distributed")
    serial = run()
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        parallel = run(client=client)
    xr.testing.assert_identical(serial, parallel)


def test_member_in_chunks_of_days_gives_one_long_run():
    """run_member allocates a few days at a time; the summary must be that of one long run."""
    from models.allocation.network import Network, allocate_arrays
    from models.allocation.demand import district_table, local_water, water_demand
    from models.allocation.network import DAYS_PER_CHUNK
    from models.allocation.outlook import member_window, run_member

    table = district_table(districts_frame())
    network = Network.from_tables(table, BOARDS)
    days, start = 3 * DAYS_PER_CHUNK + 5, pd.Timestamp("2026-06-15")
    window = member_window(history(), 2003, start, days).load()
    stations = np.array(["260", "348", "348"])
    supply = np.full(days, 5_000.0)
    member = run_member(
        (2003, window, None), table=table, network=network, order=ORDER, supply=supply, storage=None,
        deficit_initial_mm=15.0, district_station=stations,
    )
    weather = window.sel(station=xr.DataArray(stations, dims="district")).drop_vars("station").assign_coords(district=list(table.index))
    demand = water_demand(weather, table, ORDER, deficit_initial_mm=15.0).values
    inflow, evaporation = local_water(weather, table)
    shortage = np.maximum(demand - allocate_arrays(network, demand, inflow.values, evaporation.values, supply)["allocated"], 0.0)
    short = member["short_days"]
    assert short.any() and short.max() == 1
    np.testing.assert_array_equal(short, shortage > 1e-9 * demand + 1e-9)
    np.testing.assert_array_equal(member["shortage_m3"], shortage.sum(axis=0))
    np.testing.assert_array_equal(member["demand_m3"], demand.sum(axis=0))


@pytest.mark.parametrize("season_days", [1, 2, 9, 17])
def test_outlook_from_today_reproduces_todays_shortage(season_days):
    """The daily run starts the outlook today, from the state at the start of today and with
    today's observed weather: its first day must be today's allocation again, member for
    member, so its probabilities cannot contradict today's figures."""
    from models.allocation import board_split

    districts = districts_frame()
    ids = list(districts["district_id"])
    past = history().sel(station=xr.DataArray(["260", "348", "348"], dims="district")).drop_vars("station")
    past = past.assign_coords(district=ids)
    season_time = pd.date_range("2026-06-01", periods=season_days)
    rng = np.random.default_rng(5)
    season = xr.Dataset({"precipitation_mm": (("time", "district"), rng.gamma(0.3, 1.0, (season_days, 3))),
                         "evaporation_mm": (("time", "district"), rng.uniform(3, 5, (season_days, 3)))},
                        coords={"time": season_time, "district": ids})
    supply = xr.DataArray(np.full(season_days, 1_500.0), dims="time", coords={"time": season_time})
    national, runs = board_split.start(districts, BOARDS, season, supply, ORDER, deficit_initial_mm=40.0,
                                       storage_initial=[0.0, 3_000.0, 20_000.0])
    today = runs.dataset().isel(time=-1)
    short_today = (today["shortage"] > 1e-9 * today["demand"] + 1e-9).transpose("district", "use")
    assert short_today.any() and not short_today.all()  # a test that can tell right from wrong

    ds = outlook(districts, BOARDS, past, ORDER, start=season_time[-1], storage=national.storage_last_start_m3,
                 deficit_initial_mm=national.deficit_last_start_mm, supply_m3_day=1_500.0, horizon_days=20,
                 observed=season.sel(time=[season_time[-1]]))
    first = ds["shortage_probability_daily"].isel(time=0)
    np.testing.assert_array_equal(first.values, short_today.values.astype(float))
    # "Short on at least one day of the horizon" includes today: never below today's 0/1.
    assert (ds["shortage_probability"].values >= short_today.values).all()


def test_members_of_one_task_give_what_each_member_gives_alone():
    """A task's members share their buffers (the constant uses' demand stays in them from
    member to member) and one count of short days: each member's sums and the counts must be
    what the members give one by one."""
    from models.allocation.demand import district_table
    from models.allocation.network import Network
    from models.allocation.outlook import _weather_columns, run_member, run_members

    table = district_table(districts_frame())
    network = Network.from_tables(table, BOARDS)
    p, e, of_district = _weather_columns(history(), table.index, np.array(["260", "348", "348"]))
    days = 23
    items = [(year, (p[k * 365:k * 365 + days], e[k * 365:k * 365 + days]), None) for k, year in enumerate(range(2001, 2005))]
    shared = dict(table=table, network=network, order=ORDER, supply=np.full(days, 2_000.0), storage=None,
                  deficit_initial_mm=30.0, district_station=None, of_district=of_district)
    members, short_days = run_members(items, **shared)
    alone = [run_member(item, **shared) for item in items]
    assert short_days.max() > 1  # members short on the same day: the counts really add up
    np.testing.assert_array_equal(short_days, sum(member.pop("short_days").astype(int) for member in alone))
    for together, one in zip(members, alone, strict=True):
        assert together.keys() == one.keys()
        for key in together:
            np.testing.assert_array_equal(together[key], one[key])


def test_the_member_loop_is_cached_against_the_files_of_the_kernels_it_calls():
    """numba stamps a cached function with its own file only: the member's compiled day loop
    (member.py) would keep running an old copy of the allocation kernel's step (network.py) or
    the demand's constants (demand.py) after they change. Its cache carries their files' stamps too."""
    pytest.importorskip("numba")
    from models.allocation import demand, network
    from models.allocation.member import member_days

    locator = member_days._cache._impl._locator
    assert {network.__file__, demand.__file__} <= set(locator._sources)
    assert len(locator.get_source_stamp()) == len(locator._sources)

