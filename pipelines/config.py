"""The configuration of one setup: a set of water boards, their districts and data, in one YAML file.

A setup file names its data files (paths relative to the file itself), the water boards with
their inlet capacities, the national source, the priority order inside categories 3 and 4 of
the verdringingsreeks, the restriction rules and where to publish. ``load_config`` validates
all of it before any work starts: a wrong value fails with the file, the key and what would
be valid (``ConfigError``).

Example (the demo writes a complete one to ``data/raw/demo/droogte.yaml``)::

    name: demo
    date: 2025-08-15
    districts: districts.geojson
    stations:
      - {id: "901", name: Demo-Noord, x: 130000, y: 470000, file: knmi/etmgeg_901.txt}
    wells:
      - {file: groundwater/B90A0001001.csv, lower_limit_m_nap: -1.4}
    sensors:
      - {file: sensors/peilen.xml}
    water_boards:
      - {id: WBN, name: Waterschap Demo-Noord, inlet_capacity_m3_day: 1.5e6}
    source: {file: source/supply.csv}
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

from models.qc import thresholds_with
from models.restrictions.rules import DEFAULT_RULES_CONFIG, RuleConfigError, RuleTable, default_rules
from models.allocation.verdringingsreeks import PriorityOrder

SENSOR_FORMATS = ("pi-xml", "pi-json", "csv")
APPROVAL_MODES = ("auto", "analyst")


class ConfigError(ValueError):
    """A configuration value is missing or wrong; names the file, the key and what is valid."""

    def __init__(self, path: Path | str, key: str, message: str):
        self.path = str(path)
        self.key = key
        super().__init__(f"{path}: {key}: {message}")


@dataclass(frozen=True)
class Station:
    """A KNMI-like weather station: id, name, position in EPSG:28992 (m), daily data file."""

    id: str
    name: str
    x: float
    y: float
    file: Path


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


@dataclass(frozen=True)
class Source:
    """The national source: a constant supply (m³/day) or a CSV ``date,supply_m3_day``."""

    supply_m3_day: float | None = None
    file: Path | None = None


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
    dask_address: str | None = None
    dask_workers: int = 2
    outlook_horizon_days: int = 42
    stale_after_days: int = 3
    qc_thresholds: dict[str, dict[str, Any]] = field(default_factory=lambda: thresholds_with(None))
    knmi_national_deficit: Path | None = None  # KNMI's int_nl.dat, for the deficit chart's climatology
    # The weekly bulletin: the day of the week (Europe/Amsterdam calendar) on which the daily
    # run writes it (publication.bulletin_weekday), None for never; written beside the site.
    bulletin_weekday: str | None = "tuesday"
    knmi_service: KnmiService | None = None
    bro_service: BroService | None = None


class _Reader:
    """Reads typed values out of the parsed YAML, naming the key path in every error."""

    def __init__(self, path: Path):
        self.path = path
        self.base = path.parent

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, key, message)

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping (key: value), got {type(value).__name__}")
        return value

    def sequence(self, value: Any, key: str, *, min_items: int = 0) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {type(value).__name__}")
        if len(value) < min_items:
            raise self.fail(key, f"expected at least {min_items} item(s), got {len(value)}")
        return value

    def required(self, m: dict[str, Any], name: str, key: str) -> Any:
        if name not in m or m[name] is None:
            raise self.fail(f"{key}.{name}" if key else name, "is required")
        return m[name]

    def text(self, value: Any, key: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(key, f"expected text, got {value!r}")
        text = str(value).strip()
        if not text:
            raise self.fail(key, "must not be empty")
        return text

    def number(self, value: Any, key: str, *, minimum: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value!r}")
        return float(value)

    def integer(self, value: Any, key: str, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected a whole number >= {minimum}, got {value!r}")
        return value

    def date(self, value: Any, key: str) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def choice(self, value: Any, key: str, valid: tuple[str, ...]) -> str:
        if value not in valid:
            raise self.fail(key, f"expected one of {', '.join(valid)}, got {value!r}")
        return value

    def existing_file(self, value: Any, key: str) -> Path:
        path = (self.base / self.text(value, key)).resolve()
        if not path.is_file():
            raise self.fail(key, f"file not found: {path}")
        return path

    def folder(self, value: Any, key: str) -> Path:
        # Made absolute but not resolved: the published site is a symlink that is switched
        # to each new version, and must be written through its own name.
        return Path(os.path.abspath(self.base / self.text(value, key)))


def load_config(path: Path | str) -> Config:
    """Read and validate a setup file; raise ``ConfigError`` naming the file and key on any fault."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(path, "(file)", "configuration file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    r = _Reader(path)
    top = r.mapping(raw, "(top level)")

    known = {
        "name", "date", "districts", "stations", "wells", "sensors", "water_boards", "source",
        "priorities", "rules", "exemptions", "output", "publication", "dask", "outlook", "freshness", "qc", "services",
        "climatology",
    }
    unknown = sorted(set(top) - known)
    if unknown:
        raise r.fail(unknown[0], f"unknown key; valid keys are {', '.join(sorted(known))}")

    stations = tuple(_station(r, s, f"stations[{i}]") for i, s in
                     enumerate(r.sequence(r.required(top, "stations", ""), "stations", min_items=1)))
    _unique(r, [s.id for s in stations], "stations", "id")
    wells = tuple(_well(r, w, f"wells[{i}]") for i, w in enumerate(r.sequence(top.get("wells") or [], "wells")))
    sensors = tuple(_sensor(r, s, f"sensors[{i}]") for i, s in
                    enumerate(r.sequence(top.get("sensors") or [], "sensors")))
    boards = tuple(_board(r, b, f"water_boards[{i}]") for i, b in
                   enumerate(r.sequence(r.required(top, "water_boards", ""), "water_boards", min_items=1)))
    _unique(r, [b.id for b in boards], "water_boards", "id")

    output = r.mapping(top.get("output") or {}, "output")
    publication = r.mapping(top.get("publication") or {}, "publication")
    dask_cfg = r.mapping(top.get("dask") or {}, "dask")
    outlook = r.mapping(top.get("outlook") or {}, "outlook")
    freshness = r.mapping(top.get("freshness") or {}, "freshness")
    name = r.text(r.required(top, "name", ""), "name")
    tiles = publication.get("tiles")
    if tiles is not None:
        tiles = r.mapping(tiles, "publication.tiles")
        for k in ("url", "attribution"):
            r.text(r.required(tiles, k, "publication.tiles"), f"publication.tiles.{k}")

    return Config(
        path=path,
        name=name,
        date=r.date(top["date"], "date") if top.get("date") is not None else None,
        districts=r.existing_file(r.required(top, "districts", ""), "districts"),
        stations=stations,
        wells=wells,
        sensors=sensors,
        water_boards=boards,
        source=_source(r, r.required(top, "source", ""), "source"),
        priorities=_priorities(r, top.get("priorities") or {}, "priorities"),
        rules=_rules(r, top.get("rules") or {}, top.get("exemptions")),
        processed_dir=r.folder(output.get("processed", f"processed/{name}"), "output.processed"),
        site_dir=r.folder(output.get("site", "site"), "output.site"),
        raw_archive_dir=r.folder(output.get("raw_archive", "archive"), "output.raw_archive"),
        approval=r.choice(publication.get("approval", "auto"), "publication.approval", APPROVAL_MODES),
        approval_timeout_s=r.integer(publication.get("approval_timeout_s", 3600),
                                     "publication.approval_timeout_s", minimum=1),
        tiles=tiles,
        bulletin_weekday=_bulletin_weekday(r, publication.get("bulletin_weekday", "tuesday")),
        dask_address=(r.text(dask_cfg["address"], "dask.address") if dask_cfg.get("address") else None),
        dask_workers=r.integer(dask_cfg.get("workers", 2), "dask.workers", minimum=1),
        outlook_horizon_days=r.integer(outlook.get("horizon_days", 42), "outlook.horizon_days", minimum=1),
        qc_thresholds=_qc(r, top.get("qc")),
        **_services(r, top.get("services")),
        knmi_national_deficit=_climatology_file(r, top.get("climatology")),
        stale_after_days=r.integer(freshness.get("stale_after_days", 3), "freshness.stale_after_days",
                                   minimum=0),
    )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _bulletin_weekday(r: _Reader, value: Any) -> str | None:
    """``publication.bulletin_weekday``: a day name (English, any case) or ``never``."""
    text = str(value).strip().lower() if isinstance(value, str) else value
    if text == "never":
        return None
    return r.choice(text, "publication.bulletin_weekday", (*WEEKDAYS, "never"))


def _station(r: _Reader, raw: Any, key: str) -> Station:
    m = r.mapping(raw, key)
    return Station(
        id=r.text(r.required(m, "id", key), f"{key}.id"),
        name=r.text(m.get("name", m.get("id")), f"{key}.name"),
        x=r.number(r.required(m, "x", key), f"{key}.x"),
        y=r.number(r.required(m, "y", key), f"{key}.y"),
        file=r.existing_file(r.required(m, "file", key), f"{key}.file"),
    )


def _well(r: _Reader, raw: Any, key: str) -> Well:
    m = r.mapping(raw, key)
    limit = m.get("lower_limit_m_nap")
    return Well(
        file=r.existing_file(r.required(m, "file", key), f"{key}.file"),
        lower_limit_m_nap=None if limit is None else r.number(limit, f"{key}.lower_limit_m_nap"),
    )


def _sensor(r: _Reader, raw: Any, key: str) -> SensorFile:
    m = r.mapping(raw, key)
    return SensorFile(
        file=r.existing_file(r.required(m, "file", key), f"{key}.file"),
        format=r.choice(m.get("format", "pi-xml"), f"{key}.format", SENSOR_FORMATS),
    )


def _board(r: _Reader, raw: Any, key: str) -> WaterBoard:
    m = r.mapping(raw, key)
    return WaterBoard(
        id=r.text(r.required(m, "id", key), f"{key}.id"),
        name=r.text(m.get("name", m.get("id")), f"{key}.name"),
        inlet_capacity_m3_day=r.number(r.required(m, "inlet_capacity_m3_day", key),
                                       f"{key}.inlet_capacity_m3_day", minimum=0),
    )


def _source(r: _Reader, raw: Any, key: str) -> Source:
    m = r.mapping(raw, key)
    if ("supply_m3_day" in m) == ("file" in m):
        raise r.fail(key, "give exactly one of supply_m3_day (a number, m³/day) or file (a CSV date,supply_m3_day)")
    if "file" in m:
        return Source(file=r.existing_file(m["file"], f"{key}.file"))
    return Source(supply_m3_day=r.number(m["supply_m3_day"], f"{key}.supply_m3_day", minimum=0))


def _priorities(r: _Reader, raw: Any, key: str) -> dict[str, list[str]]:
    m = r.mapping(raw, key)
    out: dict[str, list[str]] = {}
    for name, value in m.items():
        if name not in ("category_3", "category_4"):
            raise r.fail(f"{key}.{name}", "only category_3 and category_4 can be ordered "
                         "(categories 1 and 2 are fixed nationally)")
        out[name] = [r.text(v, f"{key}.{name}[{i}]") for i, v in enumerate(r.sequence(value, f"{key}.{name}"))]
    try:
        PriorityOrder.from_config(out)
    except ValueError as exc:
        raise r.fail(key, str(exc)) from None
    return out


def _rules(r: _Reader, rules: Any, exemptions: Any) -> RuleTable:
    """The restriction rule table; no rules configured means the defaults of ``models.restrictions.rules``."""
    if not rules and exemptions is None:
        return default_rules()
    mapping: dict[str, Any] = {"rules": rules or DEFAULT_RULES_CONFIG["rules"]}
    if exemptions is not None:
        mapping["exemptions"] = exemptions
    try:
        return RuleTable.from_config(mapping, source=str(r.path))
    except RuleConfigError as exc:
        raise ConfigError(r.path, exc.key, exc.message) from None


def _services(r: _Reader, raw: Any) -> dict[str, Any]:
    """Public services to fetch from (``services.knmi_daggegevens``, ``services.bro_gld``)."""
    m = r.mapping(raw or {}, "services")
    unknown = sorted(set(m) - {"knmi_daggegevens", "bro_gld"})
    if unknown:
        raise r.fail(f"services.{unknown[0]}", "unknown service; expected knmi_daggegevens or bro_gld")
    out: dict[str, Any] = {}
    if m.get("knmi_daggegevens") is not None:
        key = "services.knmi_daggegevens"
        k = r.mapping(m["knmi_daggegevens"], key)
        stations = r.sequence(r.required(k, "stations", key), f"{key}.stations", min_items=1)
        out["knmi_service"] = KnmiService(
            stations=tuple(r.text(s, f"{key}.stations[{i}]") for i, s in enumerate(stations)),
            first_day=r.date(r.required(k, "first_day", key), f"{key}.first_day"),
            url=r.text(k["url"], f"{key}.url") if k.get("url") else None,
        )
    if m.get("bro_gld") is not None:
        key = "services.bro_gld"
        b = r.mapping(m["bro_gld"], key)
        dossiers = []
        for i, raw_dossier in enumerate(r.sequence(r.required(b, "dossiers", key), f"{key}.dossiers", min_items=1)):
            k = f"{key}.dossiers[{i}]"
            d = r.mapping(raw_dossier, k)
            limit = d.get("lower_limit_m_nap")
            dossiers.append(BroDossier(
                gld=r.text(r.required(d, "gld", k), f"{k}.gld"),
                well=r.text(r.required(d, "well", k), f"{k}.well"),
                x=r.number(r.required(d, "x", k), f"{k}.x"),
                y=r.number(r.required(d, "y", k), f"{k}.y"),
                lower_limit_m_nap=None if limit is None else r.number(limit, f"{k}.lower_limit_m_nap"),
            ))
        out["bro_service"] = BroService(
            dossiers=tuple(dossiers),
            first_day=r.date(r.required(b, "first_day", key), f"{key}.first_day"),
            url=r.text(b["url"], f"{key}.url") if b.get("url") else None,
        )
    return out


def _climatology_file(r: _Reader, raw: Any) -> Path | None:
    m = r.mapping(raw or {}, "climatology")
    unknown = sorted(set(m) - {"knmi_national_deficit"})
    if unknown:
        raise r.fail(f"climatology.{unknown[0]}", "unknown key; expected knmi_national_deficit "
                     "(KNMI's national deficit series int_nl.dat)")
    value = m.get("knmi_national_deficit")
    return None if value is None else r.existing_file(value, "climatology.knmi_national_deficit")


def _qc(r: _Reader, raw: Any) -> dict[str, dict[str, Any]]:
    """QC thresholds per variable: the defaults of ``models.qc`` with the setup's overrides."""
    m = r.mapping(raw or {}, "qc")
    for variable, tests in m.items():
        r.mapping(tests, f"qc.{variable}")
    try:
        return thresholds_with(m)
    except ValueError as exc:
        key, _, message = str(exc).partition(": ")
        raise r.fail(key, message) from None


def _unique(r: _Reader, ids: list[str], key: str, field_name: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise r.fail(f"{key}[{i}].{field_name}", f"duplicate {field_name} {value!r}; ids must be unique")
        seen.add(value)
