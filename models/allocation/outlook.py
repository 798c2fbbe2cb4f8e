"""Outlook: the coming weeks allocated under the weather of every past year, summarised.

From a start date and today's storage, each *member* replays the weather of one past year
(the ``horizon_days`` days from the same calendar date in that year) through the demand
model and the allocation. Members are summarised as they arrive, so memory does not grow
with their number:

- ``shortage_probability`` (``district``, ``use``): share of members with a shortage on any
  day of the horizon; ``shortage_probability_daily`` (``time``, ``district``, ``use``) per day;
- ``shortage_mean_m3`` (``district``, ``use``): mean shortage summed over the horizon, m³;
- ``shortage_fraction_quantile`` (``quantile``, ``district``, ``use``): quantiles over members
  of the share of the horizon's demand that is not met, 0–1. They come from a histogram with
  bins of 0.01 (value reported: the upper edge of the bin, so they err on the dry side);
  exactly zero shortage has its own bin.

The weather history is an xarray Dataset with ``precipitation_mm`` and ``evaporation_mm``,
mm/day, dims ``time`` (UT days) and either ``district`` or ``station`` (then
``district_station`` maps each district to its station). A year is a member only when its
window is complete (no NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation import parallel
from models.allocation.member import districts_with_use, member_days, member_work
from models.allocation.network import Network, _network_arrays
from models.allocation.demand import DemandModel, check_weather, district_table
from models.jit import kernel
from models.allocation.verdringingsreeks import PriorityOrder

FRACTION_BINS = 100  # bins of 0.01 of the horizon demand, plus one bin for "no shortage"
MEMBER_TASKS_PER_THREAD = 4  # tasks of members per Dask worker thread (see :func:`outlook`)


@dataclass
class ShortageSummary:
    """Running summary of members; add members in any number, memory stays the same."""

    members: list = field(default_factory=list)
    short_days: np.ndarray | None = None  # (time, use, district) count of members short, as members count
    short_any: np.ndarray | None = None  # (district, use) count short on any day
    shortage_sum: np.ndarray | None = None  # (district, use) m³ summed over members
    histogram: np.ndarray | None = None  # (district, use, bin) member counts
    # (time, district, use), the daily probability to come: made and written with the first
    # members. A new array's memory is faulted in where it is first written (0.1-0.4 s of
    # system time for the 176 MB of the national outlook on these machines): while the
    # members run, not in the outlook's last, serial step.
    daily: np.ndarray | None = None

    def add(self, members: list[dict], short_days: np.ndarray) -> ShortageSummary:
        """``members`` as :func:`run_member` returns them, in their order, and ``short_days``
        (time, district, use) how many of them are short on each day (:func:`run_members`)."""
        if self.short_days is None:
            n_time, n_district, n_use = short_days.shape
            self.short_days = np.zeros((n_time, n_use, n_district), np.uint16)
            self.short_any = np.zeros((n_district, n_use), np.uint16)
            self.shortage_sum = np.zeros((n_district, n_use))
            self.histogram = np.zeros((n_district, n_use, FRACTION_BINS + 1), np.uint16)
            self.daily = np.empty(short_days.shape)
            self.daily.fill(0.0)
        self.short_days += short_days.transpose(0, 2, 1)
        for member in members:  # the sum of shortages in the members' order: the same bits on any cluster
            self.members.append(member["year"])
            _add_member(self.shortage_sum, self.short_any, self.histogram, member["shortage_m3"],
                        member["fraction_bin"])
        return self

    def to_dataset(self, time, districts, order: PriorityOrder, quantiles) -> xr.Dataset:
        n = len(self.members)
        if n == 0:
            raise ValueError("outlook: no past year has complete weather for the horizon")
        needed = np.array([max(np.ceil(q * n), 1) for q in quantiles], dtype=np.float64)
        quantile_values = _quantile_bins(self.histogram, needed) / FRACTION_BINS
        daily, self.daily = self.daily, None  # the Dataset's from now on
        if daily is None:
            daily = np.empty(self.short_days.transpose(0, 2, 1).shape)
        np.divide(self.short_days.transpose(0, 2, 1), n, out=daily)
        dims = ("district", "use")
        return xr.Dataset(
            {
                "shortage_probability": (dims, self.short_any / n, {"units": "1", "long_name": "probability of a shortage within the horizon"}),
                "shortage_probability_daily": (("time",) + dims, daily, {"units": "1", "long_name": "probability of a shortage on the day"}),
                "shortage_mean_m3": (dims, self.shortage_sum / n, {"units": "m3", "long_name": "mean shortage summed over the horizon"}),
                "shortage_fraction_quantile": (("quantile",) + dims, quantile_values, {"units": "1", "long_name": "quantile over members of the unmet share of the horizon demand (bins of 0.01, upper edge)"}),
            },
            coords={
                "time": time, "district": list(districts), "use": list(order.uses),
                "category": ("use", list(order.categories)), "quantile": list(quantiles),
                "member": ("member", list(self.members), {"long_name": "year whose weather the member replays"}),
            },
            attrs={"members": n},
        )


@kernel
def _add_member(shortage_sum, short_any, histogram, shortage_m3, fraction_bin):
    """One member into the summary's (district, use) arrays: its shortage (m³) added to
    ``shortage_sum``, its short uses counted in ``short_any``, its bins in ``histogram``
    (district, use, bin). One pass instead of numpy's five (a fancy index among them): about
    5 ms a member at national size in the process that gathers the members."""
    n_district, n_use = shortage_sum.shape
    for i in range(n_district):
        for u in range(n_use):
            shortage_sum[i, u] += shortage_m3[i, u]
            b = fraction_bin[i, u]
            short_any[i, u] += b > 0
            histogram[i, u, b] += 1


@kernel
def _quantile_bins(histogram, needed):
    """Per quantile and (district, use), the first bin where the members counted so far
    (``histogram`` (district, use, bin), walked from bin 0) reach ``needed`` of that quantile,
    or 0 where they never do: what ``np.argmax(np.cumsum(histogram, axis=-1) >= needed, axis=-1)``
    gives, in one pass over the bins that stops early, without the cumulative counts (a
    (district, use, bin) array of 64-bit integers, 0.4 s of numpy at national size, after the
    last member, when nothing else runs beside it)."""
    n_district, n_use, n_bins = histogram.shape
    out = np.zeros((len(needed), n_district, n_use), np.int64)
    for i in range(n_district):
        for u in range(n_use):
            counts = histogram[i, u]
            for q in range(len(needed)):
                total = 0
                for b in range(n_bins):
                    total += counts[b]
                    if total >= needed[q]:
                        out[q, i, u] = b
                        break
    return out


def member_window(history: xr.Dataset, year: int, start: pd.Timestamp, horizon_days: int) -> xr.Dataset | None:
    """The ``horizon_days`` from ``start``'s calendar day in ``year``, or None if incomplete."""
    day = min(start.day, 28) if start.month == 2 and start.day == 29 else start.day
    first = pd.Timestamp(year=year, month=start.month, day=day)
    window = history.sel(time=slice(first, first + pd.Timedelta(days=horizon_days - 1)))
    if window.sizes["time"] != horizon_days:
        return None
    if any(bool(window[v].isnull().any()) for v in ("precipitation_mm", "evaporation_mm")):
        return None
    return window


def _window_arrays(p, e, days: pd.DatetimeIndex, year: int, start: pd.Timestamp, horizon_days: int):
    """P and E of the ``horizon_days`` from ``start``'s calendar day in ``year`` (as
    :func:`member_window`), or None when the window is incomplete."""
    day = min(start.day, 28) if start.month == 2 and start.day == 29 else start.day
    first = pd.Timestamp(year=year, month=start.month, day=day)
    i = days.searchsorted(first)
    j = i + horizon_days
    if i >= len(days) or j > len(days) or days[i] != first or days[j - 1] != first + pd.Timedelta(days=horizon_days - 1):
        return None
    window = (np.ascontiguousarray(p[i:j]), np.ascontiguousarray(e[i:j]))
    if np.isnan(window[0]).any() or np.isnan(window[1]).any():
        return None
    return window


def _weather_columns(window: xr.Dataset, districts: pd.Index, district_station,
                     columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P and E (time, column), mm/day, and each district's column (in the order of ``districts``).

    The columns are the stations the districts take their weather from (or the districts
    themselves when there is no station table): an outlook cuts its members' windows from
    these few columns and each member spreads them over the districts where it runs, so what
    travels to a Dask worker is (days, stations), not (days, 10,000 districts). ``columns``
    fixes the column labels (the known days must line up with the history's columns).
    """
    if district_station is None:
        dim, labels = "district", np.asarray(districts)
    else:
        dim, labels = "station", np.asarray(district_station)
    if columns is None:
        columns = pd.unique(labels)
    index = pd.Index(np.asarray(window[dim]).astype(str))
    picked = index.get_indexer(np.asarray(columns).astype(str))
    if (picked < 0).any():
        raise ValueError(f"outlook: weather history has no {dim} {sorted(set(np.asarray(columns)[picked < 0]))[:5]}")
    of_district = pd.Index(np.asarray(columns).astype(str)).get_indexer(labels.astype(str))
    in_order = np.array_equal(picked, np.arange(window.sizes[dim]))
    # Picking columns gives a column-major array; the kernels read whole days, so row-major.
    # Already in order (a replay hands its season's history over so, once): no copy of decades
    # of weather per outlook.
    p, e = (np.ascontiguousarray(window[name].transpose("time", dim).values if in_order
                                 else window[name].transpose("time", dim).values[:, picked])
            for name in ("precipitation_mm", "evaporation_mm"))
    return p, e, of_district


def _member_weather(window: xr.Dataset, districts: pd.Index, district_station) -> tuple[np.ndarray, np.ndarray]:
    """P and E (time, district), mm/day, in the order of ``districts`` (row-major)."""
    p, e, of_district = _weather_columns(window, districts, district_station)
    return np.ascontiguousarray(p[:, of_district]), np.ascontiguousarray(e[:, of_district])


def fraction_bins(short_any: np.ndarray, shortage_m3: np.ndarray, demand_m3: np.ndarray) -> np.ndarray:
    """The histogram bin (uint8) of each district and use of a member: 0 when never short,
    else the unmet share of the horizon's demand in bins of 0.01 (upper edge, at least 1)."""
    fraction = np.divide(shortage_m3, demand_m3, out=np.zeros_like(shortage_m3), where=demand_m3 > 0)
    return np.where(short_any, np.clip(np.ceil(fraction * FRACTION_BINS), 1, FRACTION_BINS), 0).astype(np.uint8)


def run_member(item, *, table: pd.DataFrame, network: Network, order: PriorityOrder, supply, storage, deficit_initial_mm,
               district_station, of_district: np.ndarray | None = None, buffers: dict | None = None,
               short_days: np.ndarray | None = None) -> dict:
    """One member: its weather through demand and allocation, reduced to what the summary needs:
    ``year``, ``shortage_m3`` and ``demand_m3`` (district, use) summed over the horizon, m³,
    ``fraction_bin`` (:func:`fraction_bins`), and ``short_days`` (time, district, use), the
    count of members short (this one added to the given counts, or counts of its own).

    The horizon is allocated one day at a time by one compiled loop
    (:func:`models.allocation.member.member_days`), carrying the storage and the running
    deficit along, straight from the weather columns (stations): a member holds one day of
    (use, district) arrays, nothing of the whole horizon but the counts. P and E are checked
    once (:func:`check_weather`). ``short_days``, when given, is a (time, district, use) view
    of a (time, use, district) array (as :func:`run_members` makes it): the member counts in
    the layout of its loop.
    """
    # (year, weather window, the outlook's own day labels[, the member's own supply m³/day]);
    # the window is a Dataset, or P and E (time, column) with each district's column in
    # ``of_district`` (see :func:`_weather_columns`)
    year, window, _, *own = item
    supply = supply if not own or own[0] is None else own[0]
    if isinstance(window, tuple):
        p, e = window
    else:
        p, e, of_district = _weather_columns(window, table.index, district_station)
    p, e = np.ascontiguousarray(p, dtype=float), np.ascontiguousarray(e, dtype=float)
    check_weather(p, e)
    supply = np.ascontiguousarray(np.broadcast_to(np.asarray(supply, dtype=float), (len(p),)))
    if np.isnan(supply).any() or (supply < 0).any():
        raise ValueError("supply must be >= 0 m3/day (inf: unlimited)")
    n, n_use = len(table), len(order)
    buffers = {} if buffers is None else buffers
    if buffers.get("size") != (n, n_use, len(network.boards)) or buffers["model"].table is not table \
            or buffers["model"].order is not order:
        buffers.clear()
        buffers.update(size=(n, n_use, len(network.boards)), model=DemandModel(table, order),
                       work=member_work(n, n_use, len(network.boards)), network=_network_arrays(network))
        buffers["uses"] = districts_with_use(buffers["model"].coefficient)
    model = buffers["model"]
    counts = np.zeros((len(p), n_use, n), np.uint8) if short_days is None else short_days.transpose(0, 2, 1)
    short_any = np.zeros((n_use, n), bool)
    shortage_m3 = np.zeros((n_use, n))
    demand_m3 = np.zeros((n_use, n))
    state = np.array(np.broadcast_to(np.asarray(network.storage_initial_m3 if storage is None else storage,
                                                dtype=float), (n,)))
    deficit = np.array(np.broadcast_to(np.asarray(deficit_initial_mm, dtype=float), (n,)))
    column_of = np.arange(n, dtype=np.intp) if of_district is None else np.asarray(of_district, np.intp)
    if member_days(p, e, column_of, deficit, model.kind, model.coefficient, *buffers["uses"], model.area_m2,
                   model.open_water_share,
                   *buffers["network"], state, supply, *buffers["work"], counts, short_any, shortage_m3, demand_m3):
        raise ValueError(f"outlook member {year}: demand is not finite (m3/day); check the district table's values")
    shortage_m3, demand_m3, short_any = shortage_m3.T.copy(), demand_m3.T.copy(), short_any.T
    return {"year": year, "shortage_m3": shortage_m3, "demand_m3": demand_m3,
            "fraction_bin": fraction_bins(short_any, shortage_m3, demand_m3), "short_days": counts.transpose(0, 2, 1)}


def run_members(items, **shared) -> tuple[list[dict], np.ndarray | None]:
    """Several members in one task (:func:`run_member` each, in order), sharing their buffers
    and one count of short members per day (uint8 for up to 255 members): what travels back
    is that count and each member's (district, use) sums, not each member's days."""
    buffers: dict = {}
    short_days = None
    members = []
    for item in items:
        if short_days is None:
            days = len(item[1][0]) if isinstance(item[1], tuple) else item[1].sizes["time"]
            # (time, use, district) as the members count, handed on as a (time, district, use) view
            shape = (days, len(shared["order"]), len(shared["table"]))
            short_days = np.zeros(shape, np.uint8 if len(items) < 256 else np.uint16).transpose(0, 2, 1)
        member = run_member(item, buffers=buffers, short_days=short_days, **shared)
        del member["short_days"]
        members.append(member)
    return members, short_days


def combine_members(summary: ShortageSummary, result: tuple[list[dict], np.ndarray | None]) -> ShortageSummary:
    members, short_days = result
    return summary.add(members, short_days) if members else summary


def outlook(
    districts: pd.DataFrame,
    boards: pd.DataFrame,
    history: xr.Dataset,
    order: PriorityOrder,
    *,
    start,
    storage=None,
    supply_m3_day=np.inf,
    horizon_days: int = 42,
    quantiles=(0.5, 0.9),
    deficit_initial_mm=0.0,
    district_station: pd.Series | None = None,
    years=None,
    observed: xr.Dataset | None = None,
    client=None,
) -> xr.Dataset:
    """Summary over members of the allocation from ``start`` for ``horizon_days`` days.

    ``storage`` (m³ per district, default ``storage_initial_m3``) and ``deficit_initial_mm``
    are the state at the start of ``start``; ``supply_m3_day`` the national source for the
    coming days (scalar or one value per day), the same for every member, or ``{year: one value
    per day}`` for a supply of each member's own (e.g. each year's course of the Rhine discharge;
    years without one are left out); ``client`` a
    ``distributed.Client`` or None (serial); the result is the same either way.

    ``observed``: the weather already known for the first days from ``start`` (same form as
    ``history``), shared by every member; past years' weather follows it. The daily run
    starts the outlook *today* with today's observed weather and the state at the start of
    today, so the outlook's first day is today's allocation again (every member short
    exactly where today is short) and its probabilities read on from today's figures.
    """
    table = district_table(districts)
    network = Network.from_tables(table, boards)
    start = pd.Timestamp(start)
    time = pd.date_range(start, periods=horizon_days, freq="D")
    stations = None
    if "station" in history.dims:
        if district_station is None:
            raise ValueError("outlook: history is per station; pass district_station (district → station)")
        missing = sorted(set(table.index) - set(district_station.index.astype(str)))
        if missing:
            raise ValueError(f"outlook: district_station has no station for districts {missing[:5]}")
        stations = district_station.astype(str).reindex(table.index).to_numpy()
        history = history.assign_coords(station=history["station"].astype(str))
    if years is None:
        years = sorted(set(pd.DatetimeIndex(history["time"].values).year))
    known = None
    if observed is not None:
        known = observed[["precipitation_mm", "evaporation_mm"]].sel(time=slice(start, None)).load()
        if known.sizes["time"] > horizon_days:
            known = known.isel(time=slice(0, horizon_days))
        if bool(known["precipitation_mm"].isnull().any()) or bool(known["evaporation_mm"].isnull().any()):
            raise ValueError("outlook: observed weather has missing values")
    n_known = 0 if known is None else known.sizes["time"]
    per_member = isinstance(supply_m3_day, dict)
    # The history as two (time, district) arrays, cut once: slicing arrays per member is far
    # cheaper than selecting from the Dataset per member (a season replay runs dozens of
    # outlooks of dozens of members). The known days are put in front of every member's window.
    p_all, e_all, of_district = _weather_columns(history, table.index, stations)
    of_district = of_district.astype(np.intp)
    history_days = pd.DatetimeIndex(history["time"].values)
    columns = pd.unique(np.asarray(table.index if stations is None else stations))
    p_known, e_known = (_weather_columns(known, table.index, stations, columns)[:2] if n_known
                        else (p_all[:0], e_all[:0]))
    items = []
    for year in years:
        if year == start.year or (per_member and int(year) not in supply_m3_day):
            continue
        if n_known == horizon_days:
            window = (p_known, e_known)
        else:
            window = _window_arrays(p_all, e_all, history_days, int(year), start + pd.Timedelta(days=n_known),
                                    horizon_days - n_known)
            if window is not None and n_known:
                window = (np.concatenate([p_known, window[0]]), np.concatenate([e_known, window[1]]))
        if window is not None:
            own = (np.broadcast_to(np.asarray(supply_m3_day[int(year)], dtype=float), (horizon_days,))
                   if per_member else None)
            items.append((int(year), window, time, own))
    supply = np.full(horizon_days, np.nan) if per_member else \
        np.broadcast_to(np.asarray(supply_m3_day, dtype=float), (horizon_days,))
    # A few tasks per worker thread, not one per member: enough to balance the load (the
    # national pass runs alongside), few enough that the cost of a task (its count of short
    # days, 22 MB at national size) hardly counts. Sizes differ by one member at most: with
    # 50 members in tasks of 7 (and a last one of 1) one of two workers had 6 members more to
    # run at the end. Tasks that shrink towards the end ("guided") did no better: the client
    # takes the results in the members' order, at most two per worker thread waiting, so a
    # large first task held back the tasks behind it and one worker stood idle (2.2-3.3 s
    # against 2.2-2.6 s for the stage, benchmarks/bench_allocation.py's size). The members
    # are summarised in their order either way, so the result does not depend on it.
    # In this process (no client) all members are one batch: one set of buffers for them all.
    threads = 0 if client is None else max(sum(client.nthreads().values()), 1)
    n_tasks = min(len(items), MEMBER_TASKS_PER_THREAD * threads if threads else 1)
    bounds = [k * len(items) // n_tasks for k in range(n_tasks + 1)] if n_tasks else []
    batches = [items[bounds[k]:bounds[k + 1]] for k in range(n_tasks)]
    summary = parallel.map_ordered(
        client, run_members, batches, combine_members, ShortageSummary(),
        table=table, network=network, order=order, supply=supply,
        storage=None if storage is None else np.asarray(storage, dtype=float),
        deficit_initial_mm=deficit_initial_mm, district_station=stations, of_district=of_district,
    )
    return summary.to_dataset(time, table.index, order, quantiles)


def outlook_category_probability(ensemble: xr.Dataset, category: str) -> xr.DataArray:
    """Probability (0–1) that a use of ``category`` runs short in the outlook, per district:
    the largest probability over the category's uses (a lower bound for "any use short")."""
    uses = ensemble["use"].values[[c == category for c in ensemble["category"].values]]
    return ensemble["shortage_probability"].sel(use=list(uses)).max("use")
