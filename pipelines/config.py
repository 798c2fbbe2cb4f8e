"""The configuration of one setup: a set of water boards, their districts and data, in one YAML file.

A setup file names its data files (paths relative to the file itself), the water boards with
their inlet capacities, the national source, the priority order inside categories 3 and 4 of
the verdringingsreeks, the restriction rules and where to publish. ``load_config`` validates
all of it before any work starts: a wrong value fails with the file, the key and what would
be valid (``ConfigError``, one line per fault).

Every key, its type, unit, bounds and default is defined once, in the schema
:mod:`pipelines.config_schema`; ``docs/configuration.md`` is generated from it (``droogte config
schema`` prints it as JSON Schema, ``droogte config check FILE`` validates a file). The YAML is
read as YAML 1.2 (``4.0e6`` is a number) by :mod:`pipelines.config_yaml`. This module turns
the validated file into :class:`Config`, the pipeline's view of a setup.

Example (the demo writes a complete one to ``data/raw/demo/droogte.yaml``)::

    name: demo
    date: 2025-08-15
    districts: districts.geojson
    stations:
      - {id: "901", name: Demo-Noord, x: 130000, y: 470000, file: knmi/etmgeg_901.txt}
      - {id: "260", file: knmi/etmgeg_260.txt}   # a KNMI station: name and position from its table
    wells:
      - {file: groundwater/B90A0001001.csv, lower_limit_m_nap: -1.4}
    sensors:
      - {file: sensors/peilen.xml}
    water_boards:
      - {id: WBN, name: Waterschap Demo-Noord, inlet_capacity_m3_day: 1.5e6}
    source: {file: source/supply.csv}   # or {supply_m3_day: 2.0e+6}, or the river:
    # source:
    #   discharge: lobith_discharge_daily.csv    # m3/s; or a services export (+ discharge_location: LOBI)
    #   river_model: {minimum_flow_m3_s: 200, regional_fraction: 0.24, max_regional_m3_s: 500, setup_share: 1}
    #   national_criteria: {threatening_m3_s: 1400, acting_m3_s: 1200}
    priorities: {category_3: [...], category_4: [...]}
    rules: {...}
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.allocation.river_supply import RiverSupplyModel
from models.qc import thresholds_with
from models.restrictions.explanations import DEFAULT_EXEMPTIONS, Exemptions
from models.restrictions.rules import Restriction, Rule, RuleTable, default_rules
# APPROVAL_MODES and SENSOR_FORMATS are defined with the schema and still importable from here.
from pipelines.config_schema import APPROVAL_MODES, SENSOR_FORMATS, Escalation, SetupFile, shown  # noqa: F401
from pipelines.config_yaml import read_setup_yaml


class ConfigError(ValueError):
    """A configuration value is missing or wrong; names the file, the key and what is valid.

    ``key`` and ``message`` are those of the first fault; ``faults`` lists every fault found
    as ``(key, message)``, and the text of the error has one line per fault.
    """

    #: Most faults listed in one error; a file with more has a deeper problem than typos.
    MAX_FAULTS = 20

    def __init__(self, path: Path | str, key: str, message: str,
                 more: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()):
        self.path = str(path)
        self.key = key
        self.message = message
        self.faults = [(key, message), *more]
        lines = [f"{path}: {k}: {m}" for k, m in self.faults[: self.MAX_FAULTS]]
        if len(self.faults) > self.MAX_FAULTS:
            lines.append(f"{path}: ... and {len(self.faults) - self.MAX_FAULTS} more")
        super().__init__("\n".join(lines))

    @classmethod
    def listing(cls, path: Path | str, faults: list[tuple[str, str]]) -> ConfigError:
        """One error for several faults, in the order found."""
        return cls(path, *faults[0], more=faults[1:])


@dataclass(frozen=True)
class Station:
    """A KNMI-like weather station: id, name, position in EPSG:28992 (m), daily data file."""

    id: str
    name: str
    x: float
    y: float
    file: Path
    format: str = "knmi-daily"  # one of config_schema.STATION_FORMATS


@dataclass(frozen=True)
class Well:
    """A DINOloket groundwater CSV and the lower limit (m NAP) the irrigation-ban rule uses."""

    file: Path
    lower_limit_m_nap: float | None = None


@dataclass(frozen=True)
class SensorFile:
    """A file of sensor series (surface-water levels) in one of ``SENSOR_FORMATS``."""

    file: Path
    format: str = "pi-xml"


@dataclass(frozen=True)
class WaterBoard:
    """A water board: id, display name, inlet capacity from the national system (m³/day)."""

    id: str
    name: str
    inlet_capacity_m3_day: float
    # The citizen page links to these where given (https, http, mailto or tel).
    announcement_url: str | None = None  # the board's formal announcement of its restrictions
    contact_url: str | None = None


@dataclass(frozen=True)
class Source:
    """The national source: a constant supply (m³/day), a CSV ``date,supply_m3_day``, or the
    Rhine discharge at Lobith (``discharge``, m³/s) through the river supply model
    (:mod:`models.allocation.river_supply`), with the national committee's discharge criteria
    (m³/s) that the national escalation reads."""

    supply_m3_day: float | None = None
    file: Path | None = None
    discharge: Path | None = None
    discharge_location: str | None = None  # LOCATIE_CODE in a services export holding several
    river_model: RiverSupplyModel = field(default_factory=RiverSupplyModel)
    river_model_assumed: tuple[str, ...] = ()  # parameters left at their documented defaults
    threatening_m3_s: float = 1400.0
    acting_m3_s: float = 1200.0


@dataclass(frozen=True)
class KnmiService:
    """KNMI daily station data fetched from the daggegevens script service (no key needed)."""

    stations: tuple[str, ...]
    first_day: dt.date
    url: str | None = None  # default: the public service


@dataclass(frozen=True)
class BroDossier:
    """A BRO groundwater level dossier (GLD) and the well it belongs to, placed in EPSG:28992."""

    gld: str
    well: str  # "<GMW id>-<tube>", e.g. "GMW000000041234-001"
    x: float
    y: float
    lower_limit_m_nap: float | None = None


@dataclass(frozen=True)
class BroService:
    """BRO groundwater level dossiers fetched from the BRO public service (about 3 requests/s)."""

    dossiers: tuple[BroDossier, ...]
    first_day: dt.date
    url: str | None = None  # default: the public service


@dataclass(frozen=True)
class SensorQc:
    """QC thresholds for the sensor series of one parameter (``"*"``: any) in one unit, in that unit."""

    parameter: str
    unit: str
    tests: dict[str, Any]


@dataclass(frozen=True)
class IngestSettings:
    """How ingest judges what it reads (``ingest:``; see :class:`pipelines.config_schema.Ingest`):
    the plausible-date window (UT days), the PI series identity, sensor QC per parameter and unit."""

    first_plausible_date: dt.date = dt.date(1850, 1, 1)
    plausible_days_ahead: int = 2
    pi_series_identity: str = "location-parameter"
    sensor_qc: tuple[SensorQc, ...] = ()


@dataclass(frozen=True)
class Config:
    """A validated setup. Paths are absolute; quantities carry their unit in the name."""

    path: Path
    name: str
    date: dt.date | None
    districts: Path
    stations: tuple[Station, ...]
    wells: tuple[Well, ...]
    sensors: tuple[SensorFile, ...]
    water_boards: tuple[WaterBoard, ...]
    source: Source
    priorities: dict[str, list[str]]
    rules: RuleTable
    processed_dir: Path
    site_dir: Path
    raw_archive_dir: Path
    approval: str = "auto"
    approval_timeout_s: int = 3600
    tiles: dict[str, str] | None = None
    site_url: str | None = None  # publication.site_url: the site's public address (absolute feed links)
    update_every_days: int = 1  # publication.update_every_days: days between issues (the page's "next update")
    dask_address: str | None = None
    dask_workers: int = 2
    dask_process_workers_from_districts: int = 1_000_000  # dask.process_workers_from_districts
    outlook_horizon_days: int = 42
    # escalation.hold_days, .dry_percentile_threatening, .dry_percentile_acting (models/restrictions/escalation.py)
    escalation: Escalation = field(default_factory=Escalation)
    stale_after_days: int = 3
    max_age_days: int = 5  # freshness.max_age_days: more days of missing data and no new decisions (pipelines/late_data.py)
    qc_thresholds: dict[str, dict[str, Any]] = field(default_factory=lambda: thresholds_with(None))
    knmi_national_deficit: Path | None = None  # KNMI's int_nl.dat, for the deficit chart's climatology
    # The weekly bulletin: the day of the week of the run's date on which the daily run writes
    # it (publication.bulletin_weekday); None: only on demand (droogte bulletin).
    bulletin_weekday: str | None = "tuesday"
    knmi_service: KnmiService | None = None
    bro_service: BroService | None = None
    ingest: IngestSettings = field(default_factory=IngestSettings)
    # Reliability (docs/reliability.md): overall deadline of one service request, retries
    # included (s), and the Prefect timeout of one service fetch task (s).
    service_deadline_s: float = 40.0
    service_task_timeout_s: float = 300.0


def load_config(path: Path | str) -> Config:
    """Read and validate a setup file; raise ``ConfigError`` naming the file and key on any fault."""
    path = Path(path).resolve()
    return _config(validate_setup(path), path)


def validate_setup(path: Path | str) -> SetupFile:
    """The setup file at ``path`` read (YAML 1.2 numbers, no alias bombs) and validated against
    :class:`pipelines.config_schema.SetupFile`; ``ConfigError`` lists every fault found."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(path, "(file)", "configuration file not found")
    try:
        raw = read_setup_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError(path, where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ConfigError(path, "(file)", "not valid YAML: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "(file)", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if not isinstance(raw, dict):
        raise ConfigError(path, "(top level)", f"expected a mapping (key: value), got {_type_name(raw)}")
    context = {"base": path.parent, "allowed": _allowed_folders(raw, path.parent)}
    try:
        return SetupFile.model_validate(raw, context=context)
    except ValidationError as exc:
        raise ConfigError.listing(path, [_fault(error) for error in exc.errors(include_url=False)]) from None


def _allowed_folders(raw: dict, base: Path) -> list[Path]:
    """The folders of ``allow_inputs_from``, read ahead of validation: the check of every input
    file needs them. Their own faults are reported by the schema."""
    folders = raw.get("allow_inputs_from")
    if not isinstance(folders, list):
        return []
    return [(base / f).resolve() for f in folders if isinstance(f, str) and f.strip()]


def _fault(error: dict[str, Any]) -> tuple[str, str]:
    """``(key path, message)`` of one pydantic error, from its location and type."""
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"]) + tuple(ctx.get("at", ()))
    kind, value = error["type"], error.get("input")
    if kind == "droogte":
        message = ctx["message"]
    elif kind == "missing":
        message = "is required"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"expected a mapping (key: value), got {_type_name(value)}"
    elif kind == "list_type":
        message = f"expected a list, got {_type_name(value)}"
    elif kind == "too_short":
        message = f"expected at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    elif kind == "extra_forbidden":
        message = "unknown key"
    else:  # a pydantic check without a message of ours: its own text, with the value cut short
        message = f"{error['msg'][:1].lower()}{error['msg'][1:]}, got {shown(value)}"
    return _key_path(loc), message


def _key_path(loc: tuple[Any, ...]) -> str:
    """``stations[1].x``, ``rules.WBA[0].threshold`` from a pydantic location."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            part = str(part)
            part = part if len(part) <= 40 else part[:37] + "..."
            text += f".{part}" if text else part
    return text or "(top level)"


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(type(value), type(value).__name__)


def _config(setup: SetupFile, path: Path) -> Config:
    """The pipeline's view of a validated setup: absolute paths, the rule table, QC thresholds."""
    base = path.parent
    output = setup.output
    return Config(
        path=path,
        name=setup.name,
        date=setup.date,
        districts=setup.districts,
        stations=tuple(Station(id=s.id, name=s.name or s.id, x=s.x, y=s.y, file=s.file, format=s.format)
                       for s in setup.stations),
        wells=tuple(Well(file=w.file, lower_limit_m_nap=w.lower_limit_m_nap) for w in setup.wells),
        sensors=tuple(SensorFile(file=s.file, format=s.format) for s in setup.sensors),
        water_boards=tuple(WaterBoard(id=b.id, name=b.name or b.id, inlet_capacity_m3_day=b.inlet_capacity_m3_day,
                                      announcement_url=b.announcement_url, contact_url=b.contact_url)
                           for b in setup.water_boards),
        source=_source(setup, path),
        priorities=setup.priorities.as_mapping(),
        rules=_rule_table(setup, path),
        processed_dir=output.processed or Path(os.path.abspath(base / "processed" / setup.name)),
        site_dir=output.site or Path(os.path.abspath(base / "site")),
        raw_archive_dir=output.raw_archive or Path(os.path.abspath(base / "archive")),
        approval=setup.publication.approval,
        approval_timeout_s=setup.publication.approval_timeout_s,
        tiles=setup.publication.tiles.model_dump() if setup.publication.tiles else None,
        bulletin_weekday=None if setup.publication.bulletin_weekday == "never" else setup.publication.bulletin_weekday,
        site_url=setup.publication.site_url,
        update_every_days=setup.publication.update_every_days,
        dask_address=setup.dask.address,
        dask_workers=setup.dask.workers,
        dask_process_workers_from_districts=setup.dask.process_workers_from_districts,
        outlook_horizon_days=setup.outlook.horizon_days,
        escalation=setup.escalation,
        stale_after_days=setup.freshness.stale_after_days,
        max_age_days=setup.freshness.max_age_days,
        qc_thresholds=thresholds_with(setup.qc.model_dump(exclude_none=True)),
        knmi_national_deficit=setup.climatology.knmi_national_deficit,
        knmi_service=_knmi_service(setup.services.knmi_daggegevens),
        bro_service=_bro_service(setup.services.bro_gld),
        ingest=IngestSettings(
            first_plausible_date=setup.ingest.first_plausible_date,
            plausible_days_ahead=setup.ingest.plausible_days_ahead,
            pi_series_identity=setup.ingest.pi_series_identity,
            sensor_qc=tuple(SensorQc(q.parameter, q.unit, q.model_dump(exclude_none=True, exclude={"parameter", "unit"}))
                            for q in setup.ingest.sensor_qc),
        ),
        service_deadline_s=setup.services.deadline_s,
        service_task_timeout_s=setup.services.task_timeout_s,
    )


def _source(setup: SetupFile, path: Path) -> Source:
    """The national source; with a discharge, the river supply model with the setup's parameters."""
    source = setup.source
    if source.discharge is None:
        return Source(supply_m3_day=source.supply_m3_day, file=source.file)
    given = source.river_model.model_dump(exclude_none=True)
    try:
        model = RiverSupplyModel(**given)
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        raise ConfigError(path, f"source.river_model.{name}", message) from None
    return Source(discharge=source.discharge, discharge_location=source.discharge_location,
                  river_model=model, river_model_assumed=tuple(model.assumed(set(given))),
                  threatening_m3_s=source.national_criteria.threatening_m3_s,
                  acting_m3_s=source.national_criteria.acting_m3_s)


def _rule_table(setup: SetupFile, path: Path) -> RuleTable:
    """The restriction rule table; no rules configured means the defaults of ``models.restrictions.rules``."""
    exemptions = dict(DEFAULT_EXEMPTIONS)
    for kind, texts in (setup.exemptions or {}).items():
        exemptions[kind] = Exemptions(nl=tuple(texts.nl), en=tuple(texts.en))
    if not setup.rules and setup.exemptions is None:
        return default_rules()
    if not setup.rules:
        return RuleTable(rules=default_rules().rules, exemptions=exemptions, source=str(path))
    rules = tuple(
        Rule(id=r.id, water_board=board, restriction=Restriction(r.restriction), indicator=r.indicator,
             operator=r.operator, threshold=r.threshold, min_days=r.min_days,
             lift_threshold=r.lift_threshold, lift_days=r.lift_days)
        for board, items in setup.rules.items() for r in items
    )
    return RuleTable(rules=rules, exemptions=exemptions, source=str(path))


def _knmi_service(service: Any) -> KnmiService | None:
    if service is None:
        return None
    return KnmiService(stations=tuple(service.stations), first_day=service.first_day, url=service.url)


def _bro_service(service: Any) -> BroService | None:
    if service is None:
        return None
    return BroService(
        dossiers=tuple(BroDossier(gld=d.gld, well=d.well, x=d.x, y=d.y, lower_limit_m_nap=d.lower_limit_m_nap)
                       for d in service.dossiers),
        first_day=service.first_day,
        url=service.url,
    )
