"""How whole a run's inputs are: per source, the stations, wells and sensors that are stale or
without data, and why a run counts as degraded.

Read from the ``series_*`` attributes that :mod:`models.indicators.freshness` puts on
``indicators.nc``; used by the run summary, the published page and the run's outcome.
"""

from __future__ import annotations

from pipelines.config import Config


def configured_series(config: Config) -> dict[str, list[str]]:
    """Per source, the stations, wells (files or BRO dossiers) and sensor files the setup names."""
    return {"meteo": [s.id for s in config.stations] + list(config.knmi_service.stations if config.knmi_service else []),
            "groundwater": [str(w.file.stem) for w in config.wells]
            + [d.well for d in (config.bro_service.dossiers if config.bro_service else ())],
            "sensors": [str(s.file.name) for s in config.sensors]}


def input_status(config: Config, attrs: dict) -> dict[str, dict]:
    """Per source the setup uses: how many stations, wells or sensors it has, and which are
    stale or without data (from the ``series_*`` attributes of ``indicators.nc``, see
    :func:`models.indicators.freshness.series_attrs`). A source the setup names but of which
    nothing is stored has all its measuring points missing."""
    configured = configured_series(config)
    status = {}
    for source, names in configured.items():
        if f"series_count_{source}" in attrs:
            split = lambda key: [i for i in str(attrs.get(key, "")).split(",") if i]  # noqa: E731
            status[source] = {"count": int(attrs[f"series_count_{source}"]), "stale": split(f"series_stale_{source}"),
                              "missing": split(f"series_missing_{source}")}
        elif names:
            status[source] = {"count": len(names), "stale": [], "missing": sorted(names)}
    return status


def degraded_inputs(config: Config, attrs: dict, ingest_reports: dict | None = None) -> list[str]:
    """Why the run's inputs are not whole, one sentence per problem (empty when all is well):
    a source whose ingest failed or reported failed files, and stations, wells or sensors
    that are stale or without data. Decisions that rest on such inputs keep their last state
    (a missing value neither starts nor lifts a restriction)."""
    reasons = []
    for source, report in (ingest_reports or {}).items():
        if isinstance(report, str):
            reasons.append(f"{source}: ingest failed ({report[:200]})")
        elif getattr(report, "failed_files", None):
            reasons.append(f"{source}: {len(report.failed_files)} file(s) or service request(s) failed")
    for source, entry in input_status(config, attrs).items():
        if entry["stale"]:
            reasons.append(f"{source}: {len(entry['stale'])} of {entry['count']} out of date "
                           f"({', '.join(entry['stale'][:10])})")
        if entry["missing"] and len(entry["missing"]) >= entry["count"]:
            reasons.append(f"{source}: no data held at all ({', '.join(entry['missing'][:10])}); the decisions "
                           "it feeds keep the decision log's state, or are unknown where none was decided before")
        elif entry["missing"]:
            reasons.append(f"{source}: {len(entry['missing'])} of {entry['count']} without data "
                           f"({', '.join(entry['missing'][:10])})")
    return reasons


def unknown_states(decisions) -> str:
    """One sentence on the districts whose state is published as unknown (a source without any
    data and no earlier decision); ``""`` when there are none."""
    surface = int((decisions["restriction"] == "unknown").sum())
    ground = int(decisions["groundwater_ban_unknown"].sum()) if "groundwater_ban_unknown" in decisions else 0
    parts = [f"{n} district(s) with the {what} unknown" for n, what in
             ((surface, "surface-water restriction"), (ground, "groundwater ban")) if n]
    return ("; ".join(parts) + " (measurements missing and no earlier decision; published as unknown, "
            "not as no restriction)") if parts else ""
