"""Restriction decisions: the types water boards publish, the rule table, and hysteresis.

A water board restricts the use of water in a district when a drought indicator crosses a
threshold. The types follow what the boards publish, in two independent *tracks*:

* the **surface-water track**, one level at a time in this order of severity:
  ``none`` < ``watch`` (the board watches closely, no ban yet) < ``daytime_sprinkling_ban``
  (no irrigation from surface water between 07:00 and 19:00 Europe/Amsterdam) <
  ``surface_water_ban`` (onttrekkingsverbod oppervlaktewater: no withdrawal at all);
* the **groundwater track**: ``groundwater_ban`` (beregeningsverbod grondwater) on or off.

A **rule** says when a restriction starts (its *trigger*: an indicator ``>=`` or ``<=`` a
threshold) and when it may end (its *lift condition*, on the other side of a lift threshold).
Between the two thresholds lies a band in which nothing changes, and two durations keep a
decision from flip-flopping: a restriction stays at least ``min_days``, and is lifted only
after its lift condition has held ``lift_days`` consecutive days. Missing values (NaN) neither
start nor lift a restriction: a ban is not lifted because a gauge went quiet.

:func:`decide` turns a Dataset of daily district indicators into validity intervals per
district and track, each with its explanation (see :mod:`models.restrictions.explanations`). A decision for
day D applies to the calendar day D in Europe/Amsterdam and is based on the indicators labelled
D; it is written as a naive date (``datetime64``, midnight), the indicators' own day label.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import xarray as xr

from models.restrictions import explanations
from models.restrictions.explanations import DEFAULT_EXEMPTIONS, Exemptions


class Restriction(enum.StrEnum):
    """A restriction type as water boards publish it."""

    NONE = "none"
    WATCH = "watch"
    DAYTIME_SPRINKLING_BAN = "daytime_sprinkling_ban"
    SURFACE_WATER_BAN = "surface_water_ban"
    GROUNDWATER_BAN = "groundwater_ban"

    @property
    def track(self) -> str:
        """``"groundwater"`` for the groundwater ban, ``"surface_water"`` for the others."""
        return "groundwater" if self is Restriction.GROUNDWATER_BAN else "surface_water"

    @property
    def severity(self) -> int:
        """Rank within its track: 0 none … 3 surface-water ban; the groundwater ban is 1."""
        if self is Restriction.GROUNDWATER_BAN:
            return 1
        return SURFACE_WATER_LEVELS.index(self)


#: The surface-water track in increasing severity; a district has one of these each day.
SURFACE_WATER_LEVELS = (
    Restriction.NONE,
    Restriction.WATCH,
    Restriction.DAYTIME_SPRINKLING_BAN,
    Restriction.SURFACE_WATER_BAN,
)


@dataclass(frozen=True)
class Indicator:
    """A daily district indicator that rules can use: its unit and the valid threshold range."""

    name: str
    unit: str  #: ``"1"`` for a share or probability 0–1, else ``"m"`` or ``"mm"``
    low: float = -math.inf
    high: float = math.inf


#: The indicators the lead delivers per (``time``, ``district``); see docs/contracts.md §6.
INDICATORS: Mapping[str, Indicator] = {
    i.name: i
    for i in (
        Indicator("shortage_fraction_4", "1", 0.0, 1.0),
        Indicator("shortage_fraction_3", "1", 0.0, 1.0),
        Indicator("groundwater_low_share", "1", 0.0, 1.0),
        Indicator("surface_level_below_critical", "m"),
        Indicator("deficit_anomaly_mm", "mm"),
        Indicator("outlook_shortage_probability", "1", 0.0, 1.0),
    )
}

OPERATORS = (">=", "<=")

#: Key of the rules that apply to every water board without rules of its own.
ALL_BOARDS = "*"


class RuleConfigError(ValueError):
    """A rule table in the configuration that cannot be used: names file, key path and fix."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}")


@dataclass(frozen=True)
class Rule:
    """One restriction rule of a water board.

    The trigger holds when ``indicator <operator> threshold``. The lift condition holds on the
    other side of ``lift_threshold`` (strictly): for ``>=`` when the value is ``<
    lift_threshold``, for ``<=`` when it is ``> lift_threshold``. The lift threshold lies on
    the safe side of the threshold, so trigger and lift condition never hold together.
    """

    id: str
    water_board: str
    restriction: Restriction
    indicator: str
    operator: str
    threshold: float
    min_days: int
    lift_threshold: float
    lift_days: int

    @property
    def unit(self) -> str:
        return INDICATORS[self.indicator].unit

    def trigger_holds(self, values: np.ndarray) -> np.ndarray:
        """Where the trigger holds; False where the value is missing."""
        with np.errstate(invalid="ignore"):
            if self.operator == ">=":
                return np.asarray(values >= self.threshold)
            return np.asarray(values <= self.threshold)

    def lift_holds(self, values: np.ndarray) -> np.ndarray:
        """Where the lift condition holds; False where the value is missing."""
        with np.errstate(invalid="ignore"):
            if self.operator == ">=":
                return np.asarray(values < self.lift_threshold)
            return np.asarray(values > self.lift_threshold)


_RULE_KEYS = (
    "id",
    "restriction",
    "indicator",
    "operator",
    "threshold",
    "min_days",
    "lift_threshold",
    "lift_days",
)


@dataclass(frozen=True)
class RuleTable:
    """The restriction rules of all water boards, and the exemption texts per type.

    Rules listed under a water board's id apply to that board's districts; rules under
    ``"*"`` apply to every board that has none of its own.
    """

    rules: tuple[Rule, ...]
    exemptions: Mapping[str, Exemptions] = field(default_factory=lambda: dict(DEFAULT_EXEMPTIONS))
    source: str = "<code>"

    def for_board(self, water_board: str) -> tuple[Rule, ...]:
        """The rules that apply to the districts of ``water_board`` (possibly none)."""
        own = tuple(r for r in self.rules if r.water_board == water_board)
        return own or tuple(r for r in self.rules if r.water_board == ALL_BOARDS)

    @classmethod
    def from_config(cls, mapping: Mapping, *, source: str = "config.yaml") -> RuleTable:
        """The rule table from a configuration mapping (as loaded from YAML).

        Reads the key ``rules`` (water board id or ``"*"`` → list of rules, each a mapping
        with the keys ``id``, ``restriction``, ``indicator``, ``operator``, ``threshold``,
        ``min_days``, ``lift_threshold``, ``lift_days``) and the optional key ``exemptions``
        (restriction type → ``{nl: [...], en: [...]}``); other keys are left to others.

        Raises :class:`RuleConfigError` naming ``source``, the key path (e.g.
        ``rules.WBA[2].threshold``) and what would be valid.
        """
        if not isinstance(mapping, Mapping) or "rules" not in mapping:
            raise RuleConfigError(source, "rules", "missing; expected a mapping of water board "
                                  "id (or '*' for all boards) to a list of rules")
        boards = mapping["rules"]
        if not isinstance(boards, Mapping) or not boards:
            raise RuleConfigError(source, "rules", "expected a non-empty mapping of water board "
                                  f"id (or '*') to a list of rules, got {_shown(boards)}")
        rules: list[Rule] = []
        seen: dict[str, str] = {}
        for board, items in boards.items():
            if not isinstance(board, str) or not board:
                raise RuleConfigError(source, f"rules.{board}", "water board ids must be "
                                      "non-empty strings, e.g. 'WBA', or '*' for all boards")
            if not isinstance(items, list) or not items:
                raise RuleConfigError(source, f"rules.{board}", "expected a non-empty list of "
                                      f"rules, got {_shown(items)}")
            for i, item in enumerate(items):
                key = f"rules.{board}[{i}]"
                rule = _rule_from_config(item, board, source=source, key=key)
                if rule.id in seen:
                    raise RuleConfigError(source, f"{key}.id", f"{rule.id!r} is already the id "
                                          f"of {seen[rule.id]}; rule ids must be unique")
                seen[rule.id] = key
                rules.append(rule)
        exemptions = dict(DEFAULT_EXEMPTIONS)
        if mapping.get("exemptions") is not None:
            try:
                exemptions = explanations.exemptions_from_config(
                    mapping["exemptions"], where="exemptions"
                )
            except explanations.ExemptionsError as e:
                raise RuleConfigError(source, e.key, e.message) from None
        return cls(rules=tuple(rules), exemptions=exemptions, source=source)


def _shown(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _rule_from_config(item: object, board: str, *, source: str, key: str) -> Rule:
    def fail(sub: str, message: str) -> RuleConfigError:
        return RuleConfigError(source, f"{key}.{sub}" if sub else key, message)

    if not isinstance(item, Mapping):
        raise fail("", f"expected a mapping with keys {', '.join(_RULE_KEYS)}, got {_shown(item)}")
    unknown = sorted(set(map(str, item)) - set(_RULE_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key; valid keys are {', '.join(_RULE_KEYS)}")
    for name in _RULE_KEYS:
        if name not in item:
            raise fail(name, "missing; every rule needs " + ", ".join(_RULE_KEYS))

    rule_id = item["id"]
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise fail("id", f"expected a non-empty text, got {_shown(rule_id)}")
    try:
        restriction = Restriction(item["restriction"])
    except ValueError:
        restriction = Restriction.NONE
    if restriction is Restriction.NONE:
        valid = ", ".join(r.value for r in Restriction if r is not Restriction.NONE)
        raise fail("restriction", f"{_shown(item['restriction'])} is not a restriction type; "
                   f"expected one of {valid}")
    indicator = item["indicator"]
    if indicator not in INDICATORS:
        raise fail("indicator", f"{_shown(indicator)} is not an indicator; expected one of "
                   f"{', '.join(INDICATORS)}")
    operator = item["operator"]
    if operator not in OPERATORS:
        raise fail("operator", f"{_shown(operator)} is not an operator; expected '>=' or '<='")
    spec = INDICATORS[indicator]
    numbers = {}
    for name in ("threshold", "lift_threshold"):
        x = item[name]
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise fail(name, f"expected a finite number, got {_shown(x)}")
        if not spec.low <= x <= spec.high:
            raise fail(name, f"{x} is outside the range of {indicator}; expected a value "
                       f"from {spec.low:g} to {spec.high:g}")
        numbers[name] = float(x)
    for name in ("min_days", "lift_days"):
        x = item[name]
        if isinstance(x, bool) or not isinstance(x, int) or x < 1:
            raise fail(name, f"expected a whole number of days >= 1, got {_shown(x)}")
    threshold, lift = numbers["threshold"], numbers["lift_threshold"]
    if (operator == ">=" and lift > threshold) or (operator == "<=" and lift < threshold):
        side = "<=" if operator == ">=" else ">="
        raise fail("lift_threshold", f"{lift:g} lies beyond the threshold ({operator} "
                   f"{threshold:g}), so the restriction could be lifted while its trigger "
                   f"still holds; expected a value {side} {threshold:g}")
    return Rule(
        id=rule_id.strip(),
        water_board=board,
        restriction=restriction,
        indicator=indicator,
        operator=operator,
        threshold=threshold,
        min_days=item["min_days"],
        lift_threshold=lift,
        lift_days=item["lift_days"],
    )


#: Defaults in the spirit of Dutch practice, for boards that configure no rules of their own.
DEFAULT_RULES_CONFIG: Mapping = {
    "rules": {
        ALL_BOARDS: [
            # A precipitation deficit 75 mm above the median is a markedly dry season (2018
            # passed it in early July); the board starts watching.
            {"id": "watch-deficit", "restriction": "watch", "indicator": "deficit_anomaly_mm",
             "operator": ">=", "threshold": 75.0, "min_days": 7,
             "lift_threshold": 50.0, "lift_days": 7},
            {"id": "watch-outlook", "restriction": "watch",
             "indicator": "outlook_shortage_probability", "operator": ">=", "threshold": 0.5,
             "min_days": 7, "lift_threshold": 0.3, "lift_days": 7},
            # A tenth of the category-4 demand unmet: spread the use over the day first.
            {"id": "daytime-shortage", "restriction": "daytime_sprinkling_ban",
             "indicator": "shortage_fraction_4", "operator": ">=", "threshold": 0.1,
             "min_days": 7, "lift_threshold": 0.05, "lift_days": 5},
            # A third unmet, or the level at or below the critical level: stop withdrawals.
            {"id": "ban-shortage", "restriction": "surface_water_ban",
             "indicator": "shortage_fraction_4", "operator": ">=", "threshold": 0.3,
             "min_days": 14, "lift_threshold": 0.1, "lift_days": 7},
            {"id": "ban-level", "restriction": "surface_water_ban",
             "indicator": "surface_level_below_critical", "operator": ">=", "threshold": 0.0,
             "min_days": 14, "lift_threshold": -0.1, "lift_days": 7},
            # As in the boards' groundwater bans: half of the wells below their lower limit.
            {"id": "groundwater-low", "restriction": "groundwater_ban",
             "indicator": "groundwater_low_share", "operator": ">=", "threshold": 0.5,
             "min_days": 14, "lift_threshold": 0.3, "lift_days": 14},
        ]
    }
}


def default_rules() -> RuleTable:
    """Rules for every water board (``"*"``) with sensible Dutch-practice thresholds."""
    return RuleTable.from_config(DEFAULT_RULES_CONFIG, source="models.restrictions.rules defaults")


def hysteresis(values: np.ndarray, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
    """Day by day whether ``rule`` is in force, for series along the first axis.

    ``values`` has shape (day, ...). Returns ``(active, started)``: ``active`` (bool, same
    shape) and ``started`` (int, same shape: the day index on which the current activation
    started, -1 where inactive). A rule starts on a day its trigger holds; once on, it is
    lifted on the first day on which it has been in force at least ``min_days`` days and its
    lift condition has held ``lift_days`` consecutive days up to and including that day.
    """
    values = np.asarray(values, dtype=float)
    trigger = rule.trigger_holds(values)
    lift = rule.lift_holds(values)
    active = np.zeros(values.shape, dtype=bool)
    started = np.full(values.shape, -1, dtype=np.int64)
    on = np.zeros(values.shape[1:], dtype=bool)
    days_on = np.zeros(values.shape[1:], dtype=np.int64)  # days in force before today
    lift_run = np.zeros(values.shape[1:], dtype=np.int64)  # consecutive lift days up to today
    start = np.full(values.shape[1:], -1, dtype=np.int64)
    for t in range(values.shape[0]):
        lift_run = np.where(lift[t], lift_run + 1, 0)
        lifted = on & (days_on >= rule.min_days) & (lift_run >= rule.lift_days)
        begins = ~on & trigger[t]
        on = (on & ~lifted) | begins
        start = np.where(begins, t, np.where(on, start, -1))
        days_on = np.where(on, days_on + 1, 0)
        active[t] = on
        started[t] = start
    return active, started


DECISION_COLUMNS = (
    "district_id",
    "water_board",
    "restriction",
    "valid_from",
    "valid_until",
    "rule",
    "indicator",
    "operator",
    "value",
    "threshold",
    "triggered_on",
    "reason_nl",
    "reason_en",
    "meaning_nl",
    "meaning_en",
    "exemptions_nl",
    "exemptions_en",
)
_DATE_COLUMNS = ("valid_from", "valid_until", "triggered_on")
_FLOAT_COLUMNS = ("value", "threshold")


def empty_decisions() -> pd.DataFrame:
    """A decisions table with no rows and the columns and dtypes of :func:`decide`."""
    return _typed(pd.DataFrame({c: [] for c in DECISION_COLUMNS}))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.loc[:, list(DECISION_COLUMNS)].copy()
    for c in DECISION_COLUMNS:
        if c in _DATE_COLUMNS:
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
        elif c in _FLOAT_COLUMNS:
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype("str")
    return df


def decide(
    indicators: xr.Dataset, rules: RuleTable, *, until: date | None = None
) -> pd.DataFrame:
    """Restriction decisions per district as validity intervals, evaluated day by day.

    ``indicators`` has dims (``time``, ``district``), daily consecutive ``time``, a
    ``water_board`` coordinate on ``district`` and the variables the rules use (see
    :data:`INDICATORS`). Days after ``until`` (a date, inclusive) are ignored.

    Returns one row per district, track and interval (columns :data:`DECISION_COLUMNS`):
    the surface-water track covers every evaluated day with one level (``none`` included);
    the groundwater track has rows only where a groundwater ban applies. ``valid_until`` is
    NaT while the interval is still open on the last evaluated day. ``value`` is the
    indicator on ``triggered_on``, the day the responsible rule started.
    """
    ds = _checked_indicators(indicators, rules, until=until)
    # Plain Python lists: indexing them per interval is much cheaper than a DatetimeIndex.
    days = list(pd.DatetimeIndex(ds["time"].values).normalize())
    districts = ds["district"].values.astype(str)
    boards = ds["water_board"].values.astype(str)
    texts = _fixed_texts(rules.exemptions)
    rows: list[dict] = []
    for board in sorted(set(boards)):
        cols = np.flatnonzero(boards == board)
        board_rules = rules.for_board(board)
        data = {r.id: ds[r.indicator].values[:, cols].astype(float) for r in board_rules}
        started = {r.id: hysteresis(data[r.id], r) for r in board_rules}
        for track in ("surface_water", "groundwater"):
            track_rules = [r for r in board_rules if r.restriction.track == track]
            level, responsible = _track_levels(track_rules, started, len(days), len(cols))
            for j, col in enumerate(cols):
                context = _Context(districts[col], board, j, track, track_rules, data,
                                   started, days, texts)  # fmt: skip
                rows += _intervals(level[:, j], responsible[:, j], context)
    if not rows:
        return empty_decisions()
    out = _typed(pd.DataFrame(rows))
    return out.sort_values(["district_id", "valid_from", "restriction"], ignore_index=True)


def _checked_indicators(ds: xr.Dataset, rules: RuleTable, *, until: date | None) -> xr.Dataset:
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"indicators: expected an xarray Dataset, got {type(ds).__name__}")
    for dim in ("time", "district"):
        if dim not in ds.dims:
            raise ValueError(f"indicators: missing dimension {dim!r}; expected dims "
                             f"('time', 'district'), got {tuple(ds.dims)}")
    if "water_board" not in ds.coords or ds["water_board"].dims != ("district",):
        raise ValueError("indicators: expected a coordinate 'water_board' on 'district'")
    if until is not None:
        ds = ds.sel(time=slice(None, pd.Timestamp(until)))
    if ds.sizes["time"] == 0:
        raise ValueError(f"indicators: no days to evaluate (until={until})")
    days = pd.DatetimeIndex(ds["time"].values)
    steps = np.diff(days.normalize().values).astype("timedelta64[D]").astype(int)
    if (days != days.normalize()).any() or (steps != 1).any():
        bad = days[1:][steps != 1]
        where = f"; first break before {bad[0].date()}" if len(bad) else ""
        raise ValueError("indicators: 'time' must be consecutive days at midnight (the day "
                         f"label){where}")
    for board in sorted(set(ds["water_board"].values.astype(str))):
        for rule in rules.for_board(board):
            if rule.indicator not in ds.data_vars:
                raise ValueError(
                    f"indicators: no variable {rule.indicator!r}, needed by rule {rule.id!r} "
                    f"({rules.source}) for water board {board}; the Dataset has "
                    f"{sorted(map(str, ds.data_vars))}"
                )
    return ds.transpose("time", "district", ...)


def _track_levels(
    track_rules: Sequence[Rule], state: Mapping, n_days: int, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per day and district the track's level (severity) and the index of the rule behind it.

    The most severe rule in force wins; among rules of equal severity the first in the table.
    """
    level = np.zeros((n_days, n_cols), dtype=np.int64)
    responsible = np.full((n_days, n_cols), -1, dtype=np.int64)
    for k in reversed(range(len(track_rules))):  # so earlier rules overwrite on ties
        rule = track_rules[k]
        active = state[rule.id][0]
        wins = active & (rule.restriction.severity >= level)
        level = np.where(wins, rule.restriction.severity, level)
        responsible = np.where(wins, k, responsible)
    return level, responsible


def _fixed_texts(exemptions: Mapping[str, Exemptions]) -> dict[Restriction, dict[str, str]]:
    """Meaning and exemption texts per restriction type: the same for every interval."""
    return {
        kind: {
            "meaning_nl": explanations.meaning(kind, lang="nl"),
            "meaning_en": explanations.meaning(kind, lang="en"),
            "exemptions_nl": exemptions.get(kind, Exemptions()).text("nl"),
            "exemptions_en": exemptions.get(kind, Exemptions()).text("en"),
        }
        for kind in Restriction
    }


@dataclass(frozen=True)
class _Context:
    """What :func:`_intervals` needs to know about one district and track."""

    district: str
    board: str
    column: int  #: the district's column in ``data`` and ``started``
    track: str
    track_rules: Sequence[Rule]
    data: Mapping[str, np.ndarray]  #: rule id → indicator values (day, board district)
    started: Mapping[str, tuple[np.ndarray, np.ndarray]]  #: rule id → :func:`hysteresis`
    days: Sequence[pd.Timestamp]
    texts: Mapping[Restriction, Mapping[str, str]]


def _intervals(level: np.ndarray, responsible: np.ndarray, c: _Context) -> list[dict]:
    """Rows for one district and track: one per run of days at the same level."""
    rows = []
    n = len(level)
    firsts = [0, *(np.flatnonzero(level[1:] != level[:-1]) + 1).tolist()]
    for first, end in zip(firsts, [*firsts[1:], n], strict=True):
        severity = int(level[first])
        if c.track == "groundwater":
            if severity == 0:
                continue  # the groundwater track only records bans
            kind = Restriction.GROUNDWATER_BAN
        else:
            kind = SURFACE_WATER_LEVELS[severity]
        since = c.days[first]
        row = {
            "district_id": c.district,
            "water_board": c.board,
            "restriction": kind.value,
            "valid_from": since,
            "valid_until": c.days[end - 1] if end < n else pd.NaT,
            **c.texts[kind],
        }
        if severity == 0:
            row |= {"rule": "", "indicator": "", "operator": "", "value": math.nan,
                    "threshold": math.nan, "triggered_on": pd.NaT}
            for lang in ("nl", "en"):
                row[f"reason_{lang}"] = explanations.no_restriction_reason(
                    since=since.date(), lang=lang
                )
        else:
            rule = c.track_rules[int(responsible[first])]
            t0 = int(c.started[rule.id][1][first, c.column])
            row |= {"rule": rule.id, "indicator": rule.indicator, "operator": rule.operator,
                    "value": float(c.data[rule.id][t0, c.column]), "threshold": rule.threshold,
                    "triggered_on": c.days[t0]}
            for lang in ("nl", "en"):
                row[f"reason_{lang}"] = explanations.reason(
                    rule_id=rule.id, indicator=rule.indicator, unit=rule.unit,
                    operator=rule.operator, threshold=rule.threshold, value=row["value"],
                    triggered_on=c.days[t0].date(), since=since.date(), lang=lang,
                )  # fmt: skip
        rows.append(row)
    return rows
