"""Automatic quality control of observed time series (sensor levels, rainfall, groundwater).

Each value gets a flag: an integer of bit flags (:class:`QcFlag`), so one value can fail
several tests at once and a flag of 0 means "passed every test". The bits:

==========  ===  =================================================================
flag        bit  meaning
==========  ===  =================================================================
MISSING       1  the value is NaN
RANGE         2  below ``min`` or above ``max``: physically or locally implausible
SPIKE         4  jumps more than ``spike`` away from *both* neighbours, the same way
FLATLINE      8  part of a run of at least ``flatline_count`` identical values (a
                 stuck sensor)
GAP          16  first value after a silence longer than ``max_gap``
==========  ===  =================================================================

Thresholds are set per variable in a dict, e.g.::

    {"level_m_nap": {"min": -8.0, "max": 3.0, "spike": 0.5, "flatline_count": 12,
                     "max_gap": "2h"}}

A test whose threshold is absent is not run. Values are in the variable's own unit.
"""

from __future__ import annotations

import enum
from typing import Any, Mapping

import numpy as np
import pandas as pd


class QcFlag(enum.IntFlag):
    """Bit flags of the quality tests; combine with ``|``, test with ``&``. Compare with
    pandas objects through ``int(flag)``: pandas treats an IntFlag as a sequence."""

    OK = 0
    MISSING = 1
    RANGE = 2
    SPIKE = 4
    FLATLINE = 8
    GAP = 16


def flag_range(values: pd.Series, minimum: float | None, maximum: float | None) -> pd.Series:
    """True where a value lies outside [minimum, maximum] (NaN is never out of range)."""
    out = pd.Series(False, index=values.index)
    if minimum is not None:
        out |= values < minimum
    if maximum is not None:
        out |= values > maximum
    return out


def flag_spike(values: pd.Series, threshold: float) -> pd.Series:
    """True where a value differs by more than ``threshold`` from both its neighbours in the
    same direction: a one-sample excursion, not a step (a step differs from one side only)."""
    before = values - values.shift(1)
    after = values - values.shift(-1)
    return (before.abs() > threshold) & (after.abs() > threshold) & (np.sign(before) == np.sign(after))


def flag_flatline(values: pd.Series, min_count: int) -> pd.Series:
    """True for every value in a run of at least ``min_count`` identical consecutive values."""
    run_id = (values != values.shift(1)).cumsum()
    run_length = values.groupby(run_id).transform("size")
    return (run_length >= min_count) & values.notna()


def flag_gap(times: pd.Series, max_gap: pd.Timedelta) -> pd.Series:
    """True for the first value after a time step longer than ``max_gap``."""
    return times.diff() > max_gap


def run_qc(
    df: pd.DataFrame,
    variable: str,
    value_col: str,
    time_col: str,
    series_col: str,
    thresholds: Mapping[str, Mapping[str, Any]],
) -> tuple[pd.Series, dict[str, int]]:
    """Run every configured test on each series of ``df`` (rows of one series are taken in
    time order; ``df`` itself need not be sorted).

    Returns ``flags`` (int64 Series of :class:`QcFlag` bits, aligned with ``df.index``) and a
    ``summary``: the number of values flagged by each test, plus ``"values"`` and
    ``"passed"``. Raises ``KeyError`` naming the variable when it has no thresholds.
    """
    if variable not in thresholds:
        raise KeyError(f"no QC thresholds for variable {variable!r}; known: {sorted(thresholds)}")
    limits = thresholds[variable]
    flags = pd.Series(0, index=df.index, dtype="int64")
    ordered = df.sort_values([series_col, time_col], kind="stable")
    for _, group in ordered.groupby(series_col, sort=False):
        values = group[value_col].astype(float)
        present = values.dropna()
        failed: dict[QcFlag, pd.Series] = {QcFlag.MISSING: values.isna()}
        if "min" in limits or "max" in limits:
            failed[QcFlag.RANGE] = flag_range(values, limits.get("min"), limits.get("max"))
        # spikes, flatlines and gaps are judged between the values that exist
        if "spike" in limits:
            failed[QcFlag.SPIKE] = flag_spike(present, float(limits["spike"]))
        if "flatline_count" in limits:
            failed[QcFlag.FLATLINE] = flag_flatline(present, int(limits["flatline_count"]))
        if "max_gap" in limits:
            times = group.loc[present.index, time_col]
            failed[QcFlag.GAP] = flag_gap(times, pd.Timedelta(limits["max_gap"]))
        bits = np.zeros(len(group), dtype="int64")
        for flag, mask in failed.items():
            hit = mask.reindex(group.index, fill_value=False).fillna(False).to_numpy(bool)
            bits |= np.where(hit, int(flag), 0)
        flags.loc[group.index] = bits
    tests = [QcFlag.MISSING, QcFlag.RANGE, QcFlag.SPIKE, QcFlag.FLATLINE, QcFlag.GAP]
    summary = {flag.name.lower(): int(((flags & int(flag)) != 0).sum()) for flag in tests}
    summary["values"] = len(flags)
    summary["passed"] = int((flags == 0).sum())
    return flags, summary


#: Thresholds per variable, in the variable's unit; a setup may override them (``qc:`` in its
#: configuration). Daily rain has long runs of zeros, so it gets no flatline test.
DEFAULT_THRESHOLDS: dict[str, dict[str, Any]] = {
    # mm/day; the Dutch daily record is about 200 mm
    "precipitation": {"min": 0.0, "max": 250.0, "max_gap": "3D"},
    # mm/day, Makkink reference evaporation stays below about 7 mm/day in the Netherlands
    "evaporation": {"min": 0.0, "max": 8.0, "flatline_count": 15, "max_gap": "3D"},
    # m NAP; from the deepest polders (-7 m) to South Limburg (+320 m); twice-monthly readings
    "groundwater_level": {"min": -15.0, "max": 350.0, "spike": 2.0, "max_gap": "120D"},
    # m NAP, hourly or finer surface-water levels
    "water_level": {"min": -10.0, "max": 350.0, "spike": 0.5, "flatline_count": 48, "max_gap": "6h"},
}

TEST_KEYS = ("min", "max", "spike", "flatline_count", "max_gap")


def thresholds_with(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """:data:`DEFAULT_THRESHOLDS` with a setup's ``overrides`` per variable and test applied.

    Raises ``ValueError`` naming ``qc.<variable>.<key>`` for an unknown variable or test key.
    """
    merged = {variable: dict(tests) for variable, tests in DEFAULT_THRESHOLDS.items()}
    for variable, tests in (overrides or {}).items():
        if variable not in merged:
            raise ValueError(f"qc.{variable}: unknown variable; expected one of {', '.join(merged)}")
        for key, value in tests.items():
            if key not in TEST_KEYS:
                raise ValueError(f"qc.{variable}.{key}: unknown test; expected one of {', '.join(TEST_KEYS)}")
            if key == "max_gap":
                pd.Timedelta(value)  # raises on a bad duration
            merged[variable][key] = value
    return merged


#: Units a surface-water level may be reported in (lower case, trimmed) and their factor to m.
#: A sensor series in any other unit is not a water level: ingest refuses it for
#: ``sensors.parquet`` rather than judging it by water-level thresholds.
WATER_LEVEL_UNITS: dict[str, float] = {"m": 1.0, "m nap": 1.0, "mnap": 1.0, "m+nap": 1.0, "cm": 0.01,
                                       "cm nap": 0.01}
#: Tests whose threshold is a level or a difference of levels, so scale with the unit.
_SCALED_TESTS = ("min", "max", "spike")


def sensor_thresholds(
    parameter: str,
    unit: str,
    thresholds: Mapping[str, Mapping[str, Any]],
    per_parameter: "list[tuple[str, str, Mapping[str, Any]]] | tuple" = (),
) -> dict[str, Any] | None:
    """QC thresholds for one sensor series, in the series' own ``unit``; None when the unit is
    not a water level (:data:`WATER_LEVEL_UNITS`): such a series is not judged at all.

    The ``water_level`` thresholds (in m) are converted to the unit (a cm series gets min, max
    and spike times 100); an entry ``(parameter, unit, tests)`` of ``per_parameter`` whose
    parameter (or ``"*"``) and unit match then overrides the tests it names, in that unit.
    """
    key = unit.strip().lower()
    if key not in WATER_LEVEL_UNITS:
        return None
    factor = WATER_LEVEL_UNITS[key]
    limits: dict[str, Any] = {test: (value / factor if test in _SCALED_TESTS else value)
                              for test, value in thresholds["water_level"].items()}
    # wildcard entries first, so the parameter's own entry overrides them
    for p, u, tests in sorted(per_parameter, key=lambda item: item[0] != "*"):
        if u.strip().lower() == key and p in (parameter, "*"):
            limits.update(tests)
    return limits
