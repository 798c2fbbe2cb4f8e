"""Stage ``restrictions``: indicators, allocation and outlook → the rules' decisions, merged
into the decision log, the escalation levels, and what would change by publishing
(docs/contracts.md section 6)."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import xarray as xr

from models.allocation.outlook import outlook_category_probability
from models.restrictions import decision_log, missing_input, triggers
from models.restrictions.escalation import EscalationRules, escalation_history, escalation_levels, summarise_allocation
from models.restrictions.proposal import Proposal, compare, decisions_on
from models.restrictions.rules import decide
from pipelines.config import Config
from pipelines.inputs import read_districts
from pipelines.store import (ALLOCATION, ESCALATION, ESCALATION_HISTORY, INDICATORS, OUTLOOK, PUBLISHED, TRIGGERS,
                             UNKNOWN_DECISIONS, Store)


def weather_fingerprint(config: Config) -> str:
    """SHA-256 of the areal weather's values and labels: equal exactly when the data are equal
    (the netCDF file's own bytes may differ between identical writes)."""
    weather = Store(config.processed_dir).weather()
    digest = hashlib.sha256()
    for name in ("time", "district"):
        digest.update(np.ascontiguousarray(weather[name].values.astype(str)).tobytes())
    for name in ("precipitation_mm", "evaporation_mm"):
        digest.update(np.ascontiguousarray(weather[name].values).tobytes())
    return digest.hexdigest()


def deficit_median(config: Config, day: dt.date) -> xr.DataArray:
    """Median precipitation deficit (mm) per season day and district over the years before
    ``day``'s year, from the areal weather (the reference that ``deficit_anomaly_mm`` uses)."""
    return triggers.median_deficit_by_season_day(Store(config.processed_dir).weather(), before_year=day.year)


def escalation_rules(config: Config) -> EscalationRules:
    """The escalation rules with the setup's national discharge criteria (m³/s) and its
    escalation settings (percentiles of the national deficit, days a level holds)."""
    return EscalationRules(discharge_threatening_m3_s=config.source.threatening_m3_s,
                           discharge_acting_m3_s=config.source.acting_m3_s,
                           dry_percentile_threatening=config.escalation.dry_percentile_threatening,
                           dry_percentile_acting=config.escalation.dry_percentile_acting,
                           hold_days=config.escalation.hold_days)


def national_deficit_reference(config: Config) -> pd.Series:
    """The national precipitation deficit of past years (mm per day, 1 April - 30 September)
    against which a day's deficit is ranked: KNMI's own national series where the setup names
    ``int_nl.dat`` (1906-), else the deficit of the mean precipitation and evaporation of the
    setup's districts over its own record (KNMI's method on the setup's weather)."""
    from models.indicators.climatology import read_int_nl
    from models.indicators.deficit import precipitation_deficit

    if config.knmi_national_deficit is not None:
        return read_int_nl(config.knmi_national_deficit)
    weather = Store(config.processed_dir).weather()
    p = weather["precipitation_mm"].mean("district", skipna=True)
    e = weather["evaporation_mm"].mean("district", skipna=True)
    return precipitation_deficit(p, e).to_series().dropna()


def national_facts(config: Config, allocation: xr.Dataset, indicators: xr.Dataset, days,
                   reference: pd.Series | None = None) -> dict:
    """Per day of ``days``: the Lobith discharge (m³/s; where the setup has the river) and the
    percentile of the national precipitation deficit (``precipitation_deficit_national``,
    mm) among the same season day of earlier years of :func:`national_deficit_reference`,
    for the national escalation criteria."""
    from models.indicators.climatology import deficit_percentile

    days = pd.DatetimeIndex([pd.Timestamp(d).normalize() for d in days])
    if reference is None:
        reference = national_deficit_reference(config)
    current = indicators["precipitation_deficit_national"].to_series().reindex(days)
    percentile = deficit_percentile(reference, current)
    discharge = (allocation["discharge_m3_s"].to_series().reindex(days) if "discharge_m3_s" in allocation
                 else pd.Series(np.nan, index=days))
    return {d: {"discharge_m3_s": float(discharge[d]), "deficit_percentile": float(percentile[d])} for d in days}


def missing_sources(indicators: xr.Dataset) -> dict[str, str]:
    """Per track, the source without data whose indicator it rests on (for the page's words)."""
    feeds = {"groundwater_low_share": "groundwater", "surface_level_below_critical": "surface_water"}
    return {feeds[name]: str(indicators[name].attrs.get("source")) for name in missing_input.unknown_indicators(indicators)
            if name in feeds}


def run(config: Config, day: dt.date, median: xr.DataArray | None = None, *,
        valid_on: dt.date | None = None) -> Proposal:
    """Rules with hysteresis over the season up to ``day``; merge into the decision log; the
    decisions in force on ``valid_on`` (default ``day``; a later day carries the decisions of
    ``day`` unchanged, pipelines/late_data.py); compare with what is published. ``median``:
    the result of :func:`deficit_median` (computed when absent).

    Restrictions left open by an earlier season (or an earlier timeline in the same folder)
    are closed first: each season's hysteresis starts afresh (``decision_log.close_before``).
    The log's last decided day (``valid_on``) is kept in ``timeline.json`` (pipelines/timeline.py).
    """
    from models.season import season_start
    from pipelines.timeline import decided_until, record_decided

    valid_on = valid_on or day
    store = Store(config.processed_dir)
    allocation, indicators, ensemble = (store.dataset(n) for n in (ALLOCATION, INDICATORS, OUTLOOK))
    districts = read_districts(config)
    median = median if median is not None else deficit_median(config, day)
    probability = outlook_category_probability(ensemble, "4")
    trigger_values = triggers.trigger_dataset(allocation=allocation, indicators=indicators,
                                              deficit_median=median, outlook_probability=probability)
    store.write_dataset(trigger_values, TRIGGERS)

    decisions = decide(trigger_values, config.rules, until=day)
    issued_at = pd.Timestamp.now(tz="UTC")
    last_decided = decided_until(config.processed_dir)
    log = decision_log.close_before(store.decision_log(), pd.Timestamp(season_start(day)), issued_at=issued_at,
                                    last_day=last_decided)
    # A source without any data: the decisions it feeds keep the log's state, or are unknown
    # where the log has none (models/restrictions/missing_input.py).
    before = decision_log.current_decisions(log)
    board_of = dict(zip(districts["district_id"].astype(str), districts["water_board"].astype(str)))
    affected = missing_input.affected_tracks(missing_input.unknown_indicators(indicators), config.rules, board_of)
    last = None if last_decided is None else pd.Timestamp(last_decided)
    earlier_unknown = store.table(UNKNOWN_DECISIONS)
    earlier_unknown = (set() if earlier_unknown is None else
                       set(zip(earlier_unknown["district_id"].astype(str), earlier_unknown["track"].astype(str))))
    undecided = missing_input.without_earlier_decision(decisions, before, affected, last_decided=last,
                                                       day=pd.Timestamp(day), before=earlier_unknown)
    decisions = missing_input.hold_decisions(decisions, before, affected, last_decided=last, until=pd.Timestamp(day),
                                             undecided=undecided)
    uncertain = missing_input.uncertain_tracks(decisions, affected, undecided, day=pd.Timestamp(day))
    store.write_table(pd.DataFrame(sorted(undecided), columns=["district_id", "track"], dtype=str), UNKNOWN_DECISIONS)
    log = decision_log.merge_decisions(log, decisions, issued_at=issued_at)
    store.write_decision_log(log)
    record_decided(config.processed_dir, valid_on)

    in_force = decisions_on(decision_log.current_decisions(log), valid_on, districts)
    in_force = missing_input.mark_unknown(in_force, uncertain, missing_sources(indicators))
    summary = summarise_allocation(allocation)
    # The levels of every day of the season so far, for the dashboard's and the bulletin's
    # "season at a glance"; today's level is the last of them, since a level's hysteresis
    # needs the days before it (models/restrictions/escalation.py).
    season_days = pd.DatetimeIndex(allocation["time"].values)
    past = season_days[season_days <= pd.Timestamp(day)]
    history = escalation_history(decisions, summary, districts, days=past, rules=escalation_rules(config),
                                 national=national_facts(config, allocation, indicators, past))
    store.write_table(history, ESCALATION_HISTORY)
    if len(past) and past[-1] == pd.Timestamp(day):
        escalation = history[history["date"] == past[-1]].reset_index(drop=True)
    else:
        escalation = escalation_levels(decisions, summary, districts, day=day, rules=escalation_rules(config))
    store.write_table(escalation, ESCALATION)
    return Proposal(day=valid_on, decisions=in_force, changes=compare(store.table(PUBLISHED), in_force),
                    escalation=escalation, computed_until=day)
