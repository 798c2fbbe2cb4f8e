"""The schema of a setup file: every key, its type, unit, bounds, default and meaning.

One pydantic model per mapping of the file; every mapping at every depth refuses keys it does
not know, naming the nearest valid one (``publication.aproval: unknown key (did you mean
'approval'?)``). Numbers must be finite and within documented bounds; files must exist and lie
in the setup's folder (or in a folder the setup allows with ``allow_inputs_from``); positions
are metres in EPSG:28992 (RD New) inside its domain.

:mod:`pipelines.config` validates a file against :class:`SetupFile` and turns the result into
the ``Config`` the pipeline uses; ``docs/configuration.md`` and ``droogte config schema`` are
generated from this module. Validators raise :func:`problem` errors whose message is final
text and whose ``at`` names the key below the validated value, so ``pipelines.config`` builds
each key path from pydantic's locations, never from message text.

Validation context (``SetupFile.model_validate(data, context=...)``): ``base`` is the folder
of the setup file (relative paths are relative to it), ``allowed`` the resolved folders from
which input files may also be read.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo,
                      model_validator)
from pydantic_core import PydanticCustomError

from models.allocation.verdringingsreeks import PriorityOrder
from models.qc import DEFAULT_THRESHOLDS
from models.restrictions.explanations import DEFAULT_EXEMPTIONS
from models.restrictions.rules import ALL_BOARDS, INDICATORS, OPERATORS, Restriction

SENSOR_FORMATS = ("pi-xml", "pi-json", "csv")
#: knmi-daily: an automatic station's etmgeg file (RH and EV24, UT days); knmi-rain-gauge: a
#: manual rain gauge's neerslaggeg file (RD, 08-08 UTC), stored as precipitation (see README).
STATION_FORMATS = ("knmi-daily", "knmi-rain-gauge")
#: How a PI file's series of one location and parameter are told apart (pipelines.ingest.sources.fews).
PI_SERIES_IDENTITIES = ("location-parameter", "full")
APPROVAL_MODES = ("auto", "analyst")

#: The domain of EPSG:28992 (RD New) in metres: the projected bounds of its area of use (the
#: Netherlands onshore with the Wadden and the 12-mile coastal zone, lon 3.2–7.22°, lat
#: 50.75–53.7°), rounded outward to 10 km. tests/test_config_schema.py checks them with pyproj.
RD_X_RANGE = (0.0, 290_000.0)
RD_Y_RANGE = (300_000.0, 640_000.0)

#: Largest flow accepted for a supply or an inlet capacity, m³/day: about the Rhine at Lobith in
#: its record flood of 1926 (12,600 m³/s); no inlet or national supply comes near it.
MAX_FLOW_M3_DAY = 1.0e9

#: Dates a setup may name: from the first KNMI daily series to the end of the century.
DATE_RANGE = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))

#: Longest text in a name, id or URL; longer values are typing accidents, not names.
MAX_TEXT = 200


# --- errors -----------------------------------------------------------------------------------


def shown(value: Any, limit: int = 40) -> str:
    """``repr`` of a value, cut to ``limit`` characters: an error message quotes a value, never
    a whole document."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problem(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error with final text ``message``, located ``at`` keys below the value
    being validated (none: at the value itself)."""
    # The message travels in the context, not as the template: a value quoted in it may hold
    # braces, which a template would try to fill.
    return PydanticCustomError("droogte", "{message}", {"message": message, "at": tuple(at)})


def nearest(word: str, valid: list[str] | tuple[str, ...]) -> str | None:
    """The valid word closest to ``word``, if one is close enough to be a typo of it."""
    found = difflib.get_close_matches(str(word), [str(v) for v in valid], n=1, cutoff=0.6)
    return found[0] if found else None


def _plain(x: float) -> str:
    """A bound as people write it in YAML: ``1_000_000_000``, ``0.5``."""
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):_}"
    return f"{x:g}"


# --- value types ------------------------------------------------------------------------------


def _number_check(lo: float | None, hi: float | None, unit: str, wording: str):
    span = (f"from {_plain(lo)} to {_plain(hi)}" if lo is not None and hi is not None
            else f">= {_plain(lo)}" if lo is not None else f"<= {_plain(hi)}" if hi is not None else "")
    unit_text = f" {unit}" if unit and unit != "1" else ""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise problem(f"expected {wording}, got {shown(value)}"
                          + (f" (valid: {span}{unit_text})" if span else ""))
        try:
            x = float(value)
        except OverflowError:
            raise problem(f"{shown(value)} is too large; expected a number {span}{unit_text}") from None
        if not math.isfinite(x):
            raise problem(f"expected a finite number, got {x}")
        if lo is not None and x < lo:
            raise problem(f"must be >= {_plain(lo)}{unit_text}, got {shown(value)}")
        if hi is not None and x > hi:
            raise problem(f"must be <= {_plain(hi)}{unit_text}, got {shown(value)}")
        return x

    return check


def Number(lo: float | None = None, hi: float | None = None, *, unit: str, wording: str = "a number"):
    """A finite number in [lo, hi] in ``unit``; integers and floats, never booleans or text."""
    # Field before the validator: the bounds then land on the number (JSON Schema minimum and
    # maximum); the validator's own check runs first and words the error.
    return Annotated[float, Field(ge=lo, le=hi, json_schema_extra={"unit": unit}),
                     BeforeValidator(_number_check(lo, hi, unit, wording))]


def Integer(lo: int, hi: int, *, unit: str = ""):
    """A whole number in [lo, hi]."""
    unit_text = f" {unit}" if unit else ""

    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise problem(f"expected a whole number from {_plain(lo)} to {_plain(hi)}{unit_text}, "
                          f"got {shown(value)}")
        return value

    extra = {"unit": unit} if unit else None
    return Annotated[int, Field(ge=lo, le=hi, json_schema_extra=extra), BeforeValidator(check)]


def _text(value: Any) -> str:
    # YAML reads `id: 260` as a number; an id or name of digits is still text.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise problem(f"expected text, got {shown(value)}")
    text = str(value).strip()
    if not text:
        raise problem("must not be empty")
    if len(text) > MAX_TEXT:
        raise problem(f"is {len(text)} characters long; at most {MAX_TEXT}: {shown(text)}")
    if any(ord(c) < 32 for c in text):
        raise problem(f"contains a control character: {shown(text)}")
    return text


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), BeforeValidator(_text)]


def Choice(*values: str):
    """One of ``values``; a near miss is named (``did you mean 'analyst'?``)."""

    def check(value: Any) -> str:
        if value not in values:
            guess = nearest(value, values) if isinstance(value, str) else None
            hint = f" (did you mean {guess!r}?)" if guess else ""
            raise problem(f"expected one of {', '.join(values)}, got {shown(value)}{hint}")
        return value

    return Annotated[Literal[values], BeforeValidator(check)]  # type: ignore[valid-type]


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    elif not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise problem(f"expected a date YYYY-MM-DD, got {shown(value)}") from None
    if not DATE_RANGE[0] <= value <= DATE_RANGE[1]:
        raise problem(f"expected a date from {DATE_RANGE[0]} to {DATE_RANGE[1]}, got {value}")
    return value


Date = Annotated[dt.date, BeforeValidator(_date), Field(json_schema_extra={"format": "date"})]


def _url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise problem(f"expected an http:// or https:// address, got {shown(value)}")
    return value


Url = Annotated[Text, AfterValidator(_url)]


def _link(value: str) -> str:
    if not re.match(r"^(https?://[^\s/]+|mailto:\S+|tel:\+?[0-9 ()-]+$)", value):
        raise problem(f"expected an https://, http://, mailto: or tel: address, got {shown(value)}")
    return value


# An address a public page may link to (never javascript: or a relative path).
Link = Annotated[Text, AfterValidator(_link)]


def _duration(value: Any) -> str:
    import pandas as pd  # the QC reads durations with pandas; the same parser checks them here

    try:
        delta = pd.Timedelta(value) if isinstance(value, str) else None
    except ValueError:
        delta = None
    if delta is None or not pd.Timedelta(0) < delta <= pd.Timedelta(days=366):
        raise problem(f"expected a duration from 1s to 366D such as '6h' or '3D', got {shown(value)}")
    return value


Duration = Annotated[str, Field(json_schema_extra={"format": "pandas-duration"}), BeforeValidator(_duration)]


def _shown_path(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else "..." + text[-117:]


def _input_file(value: str, info: ValidationInfo) -> Path:
    """An existing file, relative to the setup's folder, inside it or an allowed folder."""
    context = info.context or {}
    base = Path(context.get("base", "."))
    path = (base / value).resolve()
    if not path.is_file():
        raise problem(f"file not found: {_shown_path(path)}")
    allowed = [base.resolve(), *context.get("allowed", ())]
    if not any(path.is_relative_to(folder) for folder in allowed):
        raise problem(f"{_shown_path(path)} lies outside the setup's folder {_shown_path(base.resolve())}; "
                      "add its folder to allow_inputs_from to read it")
    return path


InputFile = Annotated[Text, AfterValidator(_input_file), Field(json_schema_extra={"format": "path"})]


def _folder(value: str, info: ValidationInfo) -> Path:
    # Made absolute but not resolved: the published site is a symlink that is switched to each
    # new version, and must be written through its own name.
    base = Path((info.context or {}).get("base", "."))
    return Path(os.path.abspath(base / value))


Folder = Annotated[Text, AfterValidator(_folder), Field(json_schema_extra={"format": "path"})]


def _allowed_folder(value: str, info: ValidationInfo) -> Path:
    base = Path((info.context or {}).get("base", "."))
    path = (base / value).resolve()
    if not path.is_dir():
        raise problem(f"folder not found: {_shown_path(path)}")
    return path


AllowedFolder = Annotated[Text, AfterValidator(_allowed_folder), Field(json_schema_extra={"format": "path"})]


def _coordinate(axis: str, lo: float, hi: float, degrees: float, angle: str):
    number = _number_check(None, None, "m", "a number")

    def check(value: Any) -> float:
        x = number(value)
        if abs(x) <= degrees:
            raise problem(f"{_plain(x)} looks like degrees ({angle}); expected metres {axis} in "
                          f"EPSG:28992 (RD New), from {_plain(lo)} to {_plain(hi)}")
        if not lo <= x <= hi:
            raise problem(f"{_plain(x)} m lies outside the domain of EPSG:28992 (RD New); expected "
                          f"metres {axis} from {_plain(lo)} to {_plain(hi)}")
        return x

    return Annotated[float, Field(ge=lo, le=hi, json_schema_extra={"unit": "m (EPSG:28992)"}),
                     BeforeValidator(check)]


RdX = _coordinate("east", *RD_X_RANGE, 180.0, "a longitude")
RdY = _coordinate("north", *RD_Y_RANGE, 90.0, "a latitude")


def _rd_from_degrees(raw: Any) -> str | None:
    """For x/y written as longitude/latitude in the Netherlands: the RD New position they mean."""
    if not isinstance(raw, dict):
        return None
    x, y = raw.get("x"), raw.get("y")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)):
        return None
    if not (3.0 <= x <= 7.5 and 50.5 <= y <= 54.0):
        return None
    from pyproj import Transformer

    east, north = Transformer.from_crs(4326, 28992, always_xy=True).transform(x, y)
    return f"longitude {x}, latitude {y} is x: {east:.0f}, y: {north:.0f} in EPSG:28992"


# --- mappings ---------------------------------------------------------------------------------


class Strict(BaseModel):
    """A mapping of the setup file: unknown keys are refused, naming the nearest valid key."""

    # extra="forbid" also writes additionalProperties: false into the JSON Schema for editors;
    # the attribute docstrings become the descriptions of docs/configuration.md.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)

    #: What a key of this mapping is called in an error (``unknown variable``).
    key_noun: ClassVar[str] = "key"
    #: The error for an unknown key, when a fixed text says it better than a guess.
    unknown_key_message: ClassVar[str | None] = None

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # pydantic reports "expected a mapping"
        valid = list(cls.model_fields)
        for key in data:
            if key not in cls.model_fields:
                if cls.unknown_key_message:
                    raise problem(cls.unknown_key_message, str(key))
                guess = nearest(key, valid)
                raise problem(f"unknown {cls.key_noun} (did you mean {guess!r}?)" if guess else
                              f"unknown {cls.key_noun}; expected one of {', '.join(valid)}", str(key))
        # An empty value (`wells:` with nothing after it) means the key's default.
        return {k: v for k, v in data.items() if v is not None}


class Station(Strict):
    """A KNMI daily station file. Named by its KNMI number alone, a station's name and position
    come from the KNMI station table carried with droogte."""

    id: Text = Field(examples=["260"])
    """KNMI station number (text), e.g. "260" for De Bilt."""
    name: Text | None = Field(None, examples=["De Bilt"])
    """Display name; default: the name in the KNMI station table, else the id."""
    x: RdX | None = Field(None, examples=[140_000])
    """Easting in EPSG:28992 (RD New), m; default: from the KNMI station table."""
    y: RdY | None = Field(None, examples=[456_000])
    """Northing in EPSG:28992 (RD New), m; default: from the KNMI station table."""
    file: InputFile = Field(examples=["knmi/etmgeg_260.txt"])
    """KNMI daily data file (etmgeg_<STN>.txt or .zip, or neerslaggeg), relative to the setup file."""
    format: Choice(*STATION_FORMATS) = Field("knmi-daily", examples=["knmi-rain-gauge"])
    """knmi-daily (etmgeg: RH and EV24 per UT day) or knmi-rain-gauge (neerslaggeg: RD over 08-08 UTC, stored as precipitation of the UT day the period starts, evaporation missing)."""

    @model_validator(mode="before")
    @classmethod
    def _degrees(cls, data: Any) -> Any:
        meant = _rd_from_degrees(data)
        if meant:
            raise problem(f"x and y look like degrees: {meant}; expected metres in EPSG:28992 (RD New)", "x")
        return data

    @model_validator(mode="after")
    def _placed(self) -> Station:
        if (self.x is None) != (self.y is None):
            raise problem("give both x and y (EPSG:28992, m), or neither to take the position from "
                          "the KNMI station table", "y" if self.y is None else "x")
        if self.x is None:
            from pipelines.ingest.sources.knmi import knmi_stations

            table = knmi_stations().set_index("station")
            if self.id not in table.index:
                raise problem(f"station {shown(self.id)} is not in the KNMI station table carried "
                              "with droogte; give its position as x and y (EPSG:28992, m)", "x")
            point = table.loc[self.id, "geometry"]
            self.x, self.y = round(float(point.x), 1), round(float(point.y), 1)
            self.name = self.name or str(table.loc[self.id, "name"])
        return self


class Well(Strict):
    """A DINOloket groundwater CSV."""

    file: InputFile = Field(examples=["groundwater/B33F0080001.csv"])
    """DINOloket groundwater level CSV, relative to the setup file."""
    lower_limit_m_nap: Number(-50.0, 350.0, unit="m NAP") | None = Field(None, examples=[-1.4])
    """Level below which the well counts as low for the groundwater irrigation ban, m NAP; none: the well is not judged."""


class SensorFile(Strict):
    """A file of sensor series (surface-water levels)."""

    file: InputFile = Field(examples=["sensors/peilen.xml"])
    """Delft-FEWS PI-XML / PI-JSON export or sensor CSV (docs/contracts.md), relative to the setup file."""
    format: Choice(*SENSOR_FORMATS) = Field("pi-xml", examples=["pi-xml"])
    """Format of the file."""


class WaterBoard(Strict):
    """A water board and its inlet capacity from the national system."""

    id: Text = Field(examples=["WBN"])
    """Water board id, as in the districts file's water_board property."""
    name: Text | None = Field(None, examples=["Waterschap Demo-Noord"])
    """Display name; default: the id."""
    inlet_capacity_m3_day: Number(0.0, MAX_FLOW_M3_DAY, unit="m³/day") = Field(examples=[1.5e6])
    """Most water the board can let in from the national system, m³/day."""
    announcement_url: Link | None = Field(None, examples=["https://zoek.officielebekendmakingen.nl/wsb-2025-1234.html"])
    """The board's formal announcement of its restrictions (Waterschapsblad); the citizen page links to it."""
    contact_url: Link | None = Field(None, examples=["https://www.waterschap.example.nl/contact", "tel:+31881234567"])
    """Where citizens can ask the board about restrictions; the citizen page links to it."""


#: Largest river discharge accepted, m³/s: the Rhine at Lobith in its record flood of 1926.
MAX_DISCHARGE_M3_S = 12_600.0


class RiverModel(Strict):
    """The river supply model (models/allocation/river_supply.py): supply_m3_day = setup_share ·
    min(max_regional_m3_s, regional_fraction · max(0, Q − minimum_flow_m3_s)) · 86,400. A parameter
    left out keeps its documented default, and the published pages say it is assumed."""

    minimum_flow_m3_s: Number(0.0, MAX_DISCHARGE_M3_S, unit="m³/s") | None = Field(None, examples=[200.0])
    """Lobith discharge that gives the regions nothing (default 200 m³/s, assumed)."""
    regional_fraction: Number(0.0, 1.0, unit="1") | None = Field(None, examples=[0.24])
    """Share of the discharge above the minimum that reaches the regional inlets (default 0.24, the IJssel's share at low flow, assumed)."""
    max_regional_m3_s: Number(0.0, MAX_DISCHARGE_M3_S, unit="m³/s") | None = Field(None, examples=[500.0])
    """All regional inlets from the main system together (default 500 m³/s, assumed)."""
    setup_share: Number(0.0, 1.0, unit="1") | None = Field(None, examples=[0.094])
    """This setup's share of the national regional supply (default 1; droogte init writes the share by area)."""


class NationalCriteria(Strict):
    """The Lobith discharge criteria of the national escalation (LCW's public criteria)."""

    threatening_m3_s: Number(0.0, MAX_DISCHARGE_M3_S, unit="m³/s") = 1400.0
    """National level 1 (threatening shortage) below this discharge while drier than normal."""
    acting_m3_s: Number(0.0, MAX_DISCHARGE_M3_S, unit="m³/s") = 1200.0
    """National level 2 (actual shortage) below this discharge while drier than normal."""

    @model_validator(mode="after")
    def _ordered(self) -> NationalCriteria:
        if self.acting_m3_s > self.threatening_m3_s:
            raise problem(f"must not exceed threatening_m3_s ({self.threatening_m3_s:g}); got {self.acting_m3_s:g}",
                          "acting_m3_s")
        return self


class Source(Strict):
    """The national source: give exactly one of supply_m3_day, file or discharge."""

    supply_m3_day: Number(0.0, MAX_FLOW_M3_DAY, unit="m³/day") | None = Field(None, examples=[4.0e6])
    """Constant supply of the national source, m³/day."""
    file: InputFile | None = Field(None, examples=["source/supply.csv"])
    """CSV with columns date,supply_m3_day (m³/day per day), relative to the setup file."""
    discharge: InputFile | None = Field(None, examples=["lobith_discharge_daily.csv"])
    """The Rhine discharge at Lobith (m³/s per day): date,discharge_m3_s or a Rijkswaterstaat services CSV export; the supply follows from river_model."""
    discharge_location: Text | None = Field(None, examples=["LOBI"])
    """In a services export holding several locations: the LOCATIE_CODE or MEETPUNT_IDENTIFICATIE to read."""
    river_model: RiverModel = RiverModel()
    """Parameters of the river supply model (with discharge only)."""
    national_criteria: NationalCriteria = NationalCriteria()
    """Lobith criteria of the national escalation (with discharge only)."""

    @model_validator(mode="before")
    @classmethod
    def _one(cls, data: Any) -> Any:
        if isinstance(data, dict) and sum(data.get(k) is not None for k in ("supply_m3_day", "file", "discharge")) != 1:
            raise problem("give exactly one of supply_m3_day (a number, m³/day), file (a CSV date,supply_m3_day) "
                          "or discharge (the Lobith discharge, m³/s)")
        return data


class Priorities(Strict):
    """The setup's order of uses inside categories 3 and 4 of the verdringingsreeks."""

    unknown_key_message: ClassVar[str] = ("only category_3 and category_4 can be ordered "
                                          "(categories 1 and 2 are fixed nationally)")

    category_3: list[Text] | None = Field(None, examples=[["high_value_irrigation", "process_water"]])
    """Uses of category 3 (small-scale high-value uses), highest priority first; default: the national order."""
    category_4: list[Text] | None = Field(None, examples=[["agriculture", "nature_other", "industry", "shipping", "recreation"]])
    """Uses of category 4 (other uses), highest priority first; default: the national order."""

    @model_validator(mode="after")
    def _valid_order(self) -> Priorities:
        try:
            PriorityOrder.from_config(self.as_mapping())
        except ValueError as exc:
            raise problem(str(exc)) from None
        return self

    def as_mapping(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (("category_3", self.category_3), ("category_4", self.category_4))
                if v is not None}


_RESTRICTIONS = tuple(r.value for r in Restriction if r is not Restriction.NONE)


class Rule(Strict):
    """A restriction rule: when it starts (trigger) and when it may end (lift condition)."""

    unknown_key_message: ClassVar[str] = ("unknown key; valid keys are id, restriction, indicator, operator, "
                                          "threshold, min_days, lift_threshold, lift_days")

    id: Text = Field(examples=["ban-shortage"])
    """Rule id, unique in the whole table."""
    restriction: Choice(*_RESTRICTIONS) = Field(examples=["surface_water_ban"])
    """The restriction the rule imposes."""
    indicator: Choice(*INDICATORS) = Field(examples=["shortage_fraction_4"])
    """The daily district indicator it watches (docs/contracts.md §6)."""
    operator: Choice(*OPERATORS) = Field(examples=[">="])
    """The trigger holds when indicator <operator> threshold."""
    threshold: Number(unit="indicator's unit", wording="a finite number") = Field(examples=[0.3])
    """Trigger threshold, in the indicator's unit (1 for shares, mm, m)."""
    min_days: Integer(1, 366, unit="days") = Field(examples=[14])
    """Least number of days a restriction stays once started."""
    lift_threshold: Number(unit="indicator's unit", wording="a finite number") = Field(examples=[0.1])
    """The restriction may end when the indicator is on the safe side of this value."""
    lift_days: Integer(1, 366, unit="days") = Field(examples=[7])
    """Consecutive days the lift condition must hold before the restriction ends."""

    @model_validator(mode="after")
    def _thresholds(self) -> Rule:
        spec = INDICATORS[self.indicator]
        for name in ("threshold", "lift_threshold"):
            x = getattr(self, name)
            if not spec.low <= x <= spec.high:
                raise problem(f"{x:g} is outside the range of {self.indicator}; expected a value "
                              f"from {spec.low:g} to {spec.high:g}", name)
        t, lift = self.threshold, self.lift_threshold
        if (self.operator == ">=" and lift > t) or (self.operator == "<=" and lift < t):
            side = "<=" if self.operator == ">=" else ">="
            raise problem(f"{lift:g} lies beyond the threshold ({self.operator} {t:g}), so the restriction "
                          f"could be lifted while its trigger still holds; expected a value {side} {t:g}",
                          "lift_threshold")
        return self


RuleList = Annotated[list[Rule], Field(min_length=1)]


class ExemptionTexts(Strict):
    """Who may still take water under a restriction, line by line in both languages."""

    nl: list[Text] = Field(examples=[["drinkwater voor vee"]])
    """Lines in Dutch."""
    en: list[Text] = Field(examples=[["drinking water for cattle"]])
    """The same lines in English."""

    @model_validator(mode="after")
    def _paired(self) -> ExemptionTexts:
        if len(self.nl) != len(self.en):
            raise problem(f"'nl' has {len(self.nl)} lines and 'en' has {len(self.en)}; each exemption "
                          "needs both languages")
        return self


ExemptionType = Choice(*DEFAULT_EXEMPTIONS)


class QcTests(Strict):
    """Quality-control thresholds of one variable, in the variable's own unit; a test left out keeps its default."""

    key_noun: ClassVar[str] = "test"

    min: Number(-10_000.0, 10_000.0, unit="variable's unit") | None = Field(None, examples=[0.0])
    """Values below are flagged RANGE."""
    max: Number(-10_000.0, 10_000.0, unit="variable's unit") | None = Field(None, examples=[250.0])
    """Values above are flagged RANGE."""
    spike: Number(0.0, 10_000.0, unit="variable's unit") | None = Field(None, examples=[0.5])
    """A value this far from both neighbours, the same way, is flagged SPIKE."""
    flatline_count: Integer(2, 100_000, unit="values") | None = Field(None, examples=[48])
    """This many identical values in a row are flagged FLATLINE."""
    max_gap: Duration | None = Field(None, examples=["6h"])
    """The first value after a silence longer than this (a pandas duration: 6h, 3D) is flagged GAP."""

    @model_validator(mode="after")
    def _ordered(self) -> QcTests:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise problem(f"must be >= min ({_plain(self.min)}), got {_plain(self.max)}", "max")
        return self


class Qc(Strict):
    """Quality-control thresholds per variable, overriding the defaults of models/qc.py."""

    key_noun: ClassVar[str] = "variable"

    precipitation: QcTests | None = None
    """Daily precipitation, mm/day (default: min 0, max 250, max_gap 3D)."""
    evaporation: QcTests | None = None
    """Daily Makkink evaporation, mm/day (default: min 0, max 8, flatline_count 15, max_gap 3D)."""
    groundwater_level: QcTests | None = None
    """Groundwater level, m NAP (default: min -15, max 350, spike 2, max_gap 120D)."""
    water_level: QcTests | None = None
    """Surface-water level, m NAP (default: min -10, max 350, spike 0.5, flatline_count 48, max_gap 6h)."""


assert set(Qc.model_fields) == set(DEFAULT_THRESHOLDS), "Qc must name every variable of models.qc"


class SensorQc(QcTests):
    """QC thresholds for the sensor series of one parameter in one unit, in that unit; tests left out keep the water_level thresholds converted to the unit."""

    parameter: Text = Field(examples=["H.meting"])
    """PI parameterId (or the part after '/' of a sensor CSV id); "*" matches every parameter."""
    unit: Text = Field(examples=["cm"])
    """Unit of the series as the file states it; a water-level unit (m, m NAP, mNAP, m+NAP, cm, cm NAP)."""

    @model_validator(mode="after")
    def _water_level(self) -> SensorQc:
        from models.qc import WATER_LEVEL_UNITS

        if self.unit.strip().lower() not in WATER_LEVEL_UNITS:
            raise problem(f"sensors.parquet holds water levels; expected one of {', '.join(WATER_LEVEL_UNITS)}, "
                          f"got {shown(self.unit)}", "unit")
        return self


class Ingest(Strict):
    """How ingest judges what it reads."""

    first_plausible_date: Date = Field(dt.date(1850, 1, 1), examples=["1850-01-01"])
    """Readings dated before this day are quarantined (UT day)."""
    plausible_days_ahead: Integer(0, 366, unit="days") = Field(2, examples=[2])
    """Readings dated later than today (UTC) plus this many days are quarantined."""
    pi_series_identity: Choice(*PI_SERIES_IDENTITIES) = Field("location-parameter", examples=["full"])
    """location-parameter: a sensor is <locationId>/<parameterId> and of several series of one location and parameter in a file the first is kept, the others quarantined; full: qualifierId and moduleInstanceId are part of the sensor id."""
    sensor_qc: list[SensorQc] = Field([], examples=[[{"parameter": "H.meting", "unit": "cm", "spike": 30}]])
    """QC thresholds per parameter and unit (sensors)."""


class Output(Strict):
    """Where a run writes, relative to the setup file."""

    processed: Folder | None = Field(None, examples=["../processed/demo"])
    """The processed store data/processed/<setup>; default: processed/<name>."""
    site: Folder | None = Field(None, examples=["../../dashboards/site"])
    """The published site: a link to the current version folder beside it; must not be an existing folder; default: site."""
    raw_archive: Folder | None = Field(None, examples=["../archive"])
    """Archive of every raw file fetched from a service; default: archive."""


class Tiles(Strict):
    """A background map tile service for the published maps."""

    url: Url = Field(examples=["https://tiles.example.nl/{z}/{x}/{y}.png"])
    """Tile URL template with {z}, {x}, {y}."""
    attribution: Text = Field(examples=["© OpenStreetMap-bijdragers"])
    """Attribution shown on the map."""


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Publication(Strict):
    """How a run publishes."""

    approval: Choice(*APPROVAL_MODES) = Field("auto", examples=["analyst"])
    """auto: publish at once; analyst: wait for an analyst's approval in the Prefect UI."""
    approval_timeout_s: Integer(1, 604_800, unit="s") = Field(3600, examples=[3600])
    """How long a run waits for the analyst's approval, s (at most a week)."""
    tiles: Tiles | None = None
    """Background map tiles; default: no background map."""
    bulletin_weekday: Choice(*WEEKDAYS, "never") = Field("tuesday", examples=["friday"])
    """Day of the week (of the run's date) on which the daily run writes the weekly drought bulletin beside the site; never: only by `droogte bulletin`."""
    site_url: Url | None = Field(None, examples=["https://droogte.example.nl/"])
    """The published site's public address: makes the Atom feeds' links absolute; default: relative links."""
    update_every_days: Integer(1, 366, unit="days") = Field(1, examples=[1])
    """Days between issues: the citizen page's "next update" is the day decided for plus this."""


class Dask(Strict):
    """The Dask cluster of the allocation and the outlook."""

    address: Text | None = Field(None, examples=["tcp://127.0.0.1:8786"])
    """Address of a running Dask scheduler; default: a local cluster for the run."""
    workers: Integer(1, 256, unit="workers") = Field(2, examples=[2])
    """Workers of the local cluster."""
    process_workers_from_districts: Integer(0, 1_000_000, unit="districts") = Field(1_000_000, examples=[1_000_000])
    """Setups with at least this many districts run the local cluster's workers as separate
    processes; smaller setups run them as threads in the run's own process. The default runs
    threads at every size: they start at once (two worker processes cost the demo about 3-5 s
    of start-up, imports and shut-down), hold no second copy of the imports and the inputs,
    and send no results between processes, while the compiled kernels, which do nearly all
    the work, run in parallel as they release the GIL. At national size (10,000 districts, 50
    outlook members) two worker threads peaked at about 1.7 GiB against 2.5 GiB for two
    processes, for less CPU time. 0: always processes. Not used with ``address``."""


class Outlook(Strict):
    """The outlook for the coming weeks."""

    horizon_days: Integer(1, 366, unit="days") = Field(42, examples=[42])
    """Days ahead the outlook looks."""


class Escalation(Strict):
    """The national escalation (models/restrictions/escalation.py; criteria and sources in docs/escalation.md)."""

    hold_days: Integer(1, 366, unit="days") = Field(14, examples=[14])
    """A level is left only after its criteria have been unmet this many days in a row (hysteresis): two weekly meetings of the national committee."""
    dry_percentile_threatening: Number(50.0, 100.0, unit="%") = Field(80.0, examples=[80.0])
    """National level 1 needs the national precipitation deficit drier than this percentile of earlier years (80: the driest 20 %, US Drought Monitor D1)."""
    dry_percentile_acting: Number(50.0, 100.0, unit="%") = Field(90.0, examples=[90.0])
    """National level 2 needs the deficit drier than this percentile (90: the driest 10 %, D2)."""

    @model_validator(mode="after")
    def _ordered(self) -> Escalation:
        if self.dry_percentile_acting < self.dry_percentile_threatening:
            raise problem(f"must not be below dry_percentile_threatening ({self.dry_percentile_threatening:g}); "
                          f"got {self.dry_percentile_acting:g}", "dry_percentile_acting")
        return self


class Freshness(Strict):
    """When data count as stale."""

    stale_after_days: Integer(0, 365, unit="days") = Field(3, examples=[3])
    """Meteo data older than this many days are stale."""
    max_age_days: Integer(0, 365, unit="days") = Field(5, examples=[5])
    """When the newest day with complete weather (and supply) lies more than this many days
    before the run's day, the run publishes no new decisions (exit code 4); within it, the
    decisions of the newest complete day are carried to the run's day (exit code 3)."""


class KnmiService(Strict):
    """KNMI daily station data from the daggegevens script service (no key needed)."""

    stations: Annotated[list[Text], Field(min_length=1)] = Field(examples=[["260", "344"]])
    """KNMI station numbers; each must be in the KNMI station table carried with droogte."""
    first_day: Date = Field(examples=["2025-01-01"])
    """First day to fetch, YYYY-MM-DD."""
    url: Url | None = Field(None, examples=["https://www.daggegevens.knmi.nl/klimatologie/daggegevens"])
    """Service address; default: the public service."""

    @model_validator(mode="after")
    def _known_stations(self) -> KnmiService:
        from pipelines.ingest.sources.knmi import knmi_stations

        known = set(knmi_stations()["station"])
        for i, station in enumerate(self.stations):
            if station not in known:
                raise problem(f"{shown(station)} is not a station of the KNMI station table carried "
                              "with droogte (pipelines/ingest/sources/knmi_stations.csv)", "stations", i)
        return self


class BroDossier(Strict):
    """A BRO groundwater level dossier (GLD) and the well it belongs to."""

    gld: Text = Field(examples=["GLD000000012345"])
    """The dossier id."""
    well: Text = Field(examples=["GMW000000041234-001"])
    """The well and tube, "<GMW id>-<tube>"."""
    x: RdX = Field(examples=[140_000])
    """Easting in EPSG:28992 (RD New), m."""
    y: RdY = Field(examples=[456_000])
    """Northing in EPSG:28992 (RD New), m."""
    lower_limit_m_nap: Number(-50.0, 350.0, unit="m NAP") | None = Field(None, examples=[-1.3])
    """Lower limit for the groundwater irrigation ban, m NAP."""

    @model_validator(mode="before")
    @classmethod
    def _degrees(cls, data: Any) -> Any:
        meant = _rd_from_degrees(data)
        if meant:
            raise problem(f"x and y look like degrees: {meant}; expected metres in EPSG:28992 (RD New)", "x")
        return data


class BroService(Strict):
    """BRO groundwater level dossiers from the BRO public service (about 3 requests/s)."""

    dossiers: Annotated[list[BroDossier], Field(min_length=1)]
    """The dossiers to fetch."""
    first_day: Date = Field(examples=["2025-01-01"])
    """First day to fetch, YYYY-MM-DD."""
    url: Url | None = None
    """Service address; default: the public service."""


class Services(Strict):
    """Public services to fetch from, beside the files."""

    key_noun: ClassVar[str] = "service"

    knmi_daggegevens: KnmiService | None = None
    """KNMI daily station data."""
    bro_gld: BroService | None = None
    """BRO groundwater levels."""
    deadline_s: Number(1.0, 600.0, unit="s") = Field(40.0, examples=[40])
    """Longest one service request may take, every retry and wait included, in seconds; a
    hanging service costs at most this (docs/reliability.md)."""
    task_timeout_s: Number(10.0, 7200.0, unit="s") = Field(300.0, examples=[300])
    """Prefect timeout of one service fetch task (all of a service's requests), in seconds."""


class Climatology(Strict):
    """Long series for the deficit chart's climatology."""

    knmi_national_deficit: InputFile | None = Field(None, examples=["int_nl.dat"])
    """KNMI's national precipitation deficit series (int_nl.dat), relative to the setup file."""


def _setup_name(value: str) -> str:
    # The name becomes a folder name (processed/<name>) and appears on every page.
    if re.search(r"[/\\]", value) or value in (".", ".."):
        raise problem(f"a setup name may not contain / or \\ nor be . or ..: {shown(value)}")
    return value


class SetupFile(Strict):
    """A setup: a set of water boards, their districts and data, in one YAML file."""

    name: Annotated[Text, AfterValidator(_setup_name), Field(max_length=100)] = Field(examples=["demo"])
    """Name of the setup, shown on the pages and used for its folders."""
    date: Date | None = Field(None, examples=["2025-08-15"])
    """Day a run computes when none is given (YYYY-MM-DD); default: today."""
    districts: InputFile = Field(examples=["districts.geojson"])
    """Districts GeoJSON in EPSG:28992 (docs/contracts.md §3), relative to the setup file."""
    stations: Annotated[list[Station], Field(min_length=1)]
    """KNMI daily station files."""
    wells: list[Well] = []
    """DINOloket groundwater files."""
    sensors: list[SensorFile] = []
    """Sensor files (surface-water levels)."""
    water_boards: Annotated[list[WaterBoard], Field(min_length=1)]
    """The water boards of the setup."""
    source: Source
    """The national source."""
    priorities: Priorities = Priorities()
    """Order of uses in categories 3 and 4; default: the national order."""
    rules: dict[Text, RuleList] = Field({}, json_schema_extra={"x-key": "water board"}, examples=[{"*": [{"id": "ban-shortage", "restriction": "surface_water_ban",
                                                              "indicator": "shortage_fraction_4", "operator": ">=",
                                                              "threshold": 0.3, "min_days": 14,
                                                              "lift_threshold": 0.1, "lift_days": 7}]}])
    """Restriction rules per water board id ("*": every board without rules of its own); default: the rules of models/restrictions/rules.py."""
    exemptions: dict[ExemptionType, ExemptionTexts] | None = Field(None, json_schema_extra={"x-key": "restriction"})
    """Exemption texts per restriction type; types left out keep the defaults."""
    output: Output = Output()
    """Output folders."""
    publication: Publication = Publication()
    """Publication settings."""
    dask: Dask = Dask()
    """Dask settings."""
    outlook: Outlook = Outlook()
    """Outlook settings."""
    escalation: Escalation = Escalation()
    """National escalation settings: hysteresis and the dry percentiles of the national deficit."""
    freshness: Freshness = Freshness()
    """Staleness settings."""
    qc: Qc = Qc()
    """Quality-control thresholds."""
    services: Services = Services()
    """Public services."""
    climatology: Climatology = Climatology()
    """Climatology inputs."""
    ingest: Ingest = Ingest()
    """Ingest settings: plausible dates, PI series identity, sensor QC per parameter and unit."""
    allow_inputs_from: list[AllowedFolder] = Field([], examples=[["../../shared/data"]])
    """Folders outside the setup's folder from which input files may be read; default: none."""

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SetupFile:
        for key, ids in (("stations", [s.id for s in self.stations]),
                         ("water_boards", [b.id for b in self.water_boards])):
            seen: set[str] = set()
            for i, value in enumerate(ids):
                if value in seen:
                    raise problem(f"duplicate id {shown(value)}; ids must be unique", key, i, "id")
                seen.add(value)
        boards = [b.id for b in self.water_boards]
        rule_ids: dict[str, str] = {}
        for board, rules in self.rules.items():
            if board != ALL_BOARDS and board not in boards:
                guess = nearest(board, boards)
                raise problem(f"not a water board of this setup{f' (did you mean {guess!r}?)' if guess else ''}; "
                              f"expected one of {', '.join(boards)} or '*' for every board", "rules", board)
            for i, rule in enumerate(rules):
                if rule.id in rule_ids:
                    raise problem(f"{rule.id!r} is already the id of {rule_ids[rule.id]}; rule ids must be unique",
                                  "rules", board, i, "id")
                rule_ids[rule.id] = f"rules.{board}[{i}]"
        self._check_outputs(Path((info.context or {}).get("base", ".")).resolve())
        return self

    def _check_outputs(self, base: Path) -> None:
        """Output folders never swallow the inputs and never take over a folder that is not
        droogte's: publishing switches ``site`` as a link, and must never move a folder aside."""
        named = {k: getattr(self.output, k) for k in Output.model_fields if getattr(self.output, k) is not None}
        for key, folder in named.items():
            real = folder.resolve()
            if real == base or base.is_relative_to(real):
                raise problem(f"{_shown_path(folder)} is the setup's folder or holds it; outputs need a "
                              "folder of their own", "output", key)
        site = named.get("site")
        if site is not None and (site.exists() or site.is_symlink()) and not is_droogte_site(site):
            raise problem(f"{_shown_path(site)} exists and is not a droogte site (a link to a version "
                          f"folder {site.name}.<stamp> beside it); droogte never moves or replaces an "
                          "existing folder: name a folder that does not exist yet", "output", "site")
        if site is not None:
            for key in ("processed", "raw_archive"):
                other = named.get(key)
                if other is not None and (other.resolve().is_relative_to(site.resolve())
                                          or site.resolve().is_relative_to(other.resolve())):
                    raise problem(f"{_shown_path(other)} overlaps the site folder; a published site "
                                  "holds only what is published", "output", key)


def is_droogte_site(site: Path) -> bool:
    """Whether ``site`` is a published droogte site: a symlink to a version folder
    ``<name>.<stamp>`` beside it (see dashboards/site.py)."""
    if not site.is_symlink():
        return False
    target = Path(os.readlink(site))
    return (target.parent in (Path("."), Path("")) or
            Path(os.path.abspath(site.parent / target)).parent == Path(os.path.abspath(site.parent))) and \
        re.fullmatch(re.escape(site.name) + r"\.\d{8}T\d{6,12}Z", target.name) is not None
