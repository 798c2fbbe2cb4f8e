"""What of a decision may be published, checked before anything is written.

Only the columns in ``PUBLIC_COLUMNS`` ever reach a page or an open-data file (an allow-list:
a column added upstream, say a permit holder's name, stays private until it is added here on
purpose). Bad input raises ``ValueError`` naming the column or key and what was expected.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboards.restriction_styles import BY_CODE

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# The published schema, in this order (docs/contracts.md section 7).
PUBLIC_COLUMNS: tuple[str, ...] = (
    "district_id",
    "name",
    "water_board",
    "restriction",
    "groundwater_ban",
    "valid_from",
    "rule",
    "reason_nl",
    "reason_en",
    "meaning_nl",
    "meaning_en",
    "exemptions_nl",
    "exemptions_en",
)
_TEXT_COLUMNS = tuple(c for c in PUBLIC_COLUMNS if c not in ("groundwater_ban", "valid_from"))
#: Published too, False where absent: the groundwater ban's state is unknown because the
#: measurements it rests on are missing (models/restrictions/missing_input.py).
UNKNOWN_COLUMN = "groundwater_ban_unknown"

METADATA_KEYS = ("issued_at", "valid_from", "data_ages", "software_version", "setup_name")

def public_districts(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the allow-listed columns of ``districts`` plus geometry, checked and normalised.

    Expects EPSG:28992 polygons, unique ``district_id``, a known ``restriction``, a boolean
    ``groundwater_ban`` and a date ``valid_from``. Text columns become ``str`` ("" for
    missing), ``valid_from`` becomes ``datetime.date``.
    """
    if not isinstance(districts, gpd.GeoDataFrame):
        raise ValueError(f"districts must be a GeoDataFrame; got {type(districts).__name__}")
    missing = [c for c in PUBLIC_COLUMNS if c not in districts.columns]
    if missing:
        raise ValueError(f"districts lack column(s) {', '.join(missing)}; expected {', '.join(PUBLIC_COLUMNS)}")
    if districts.crs is None or not districts.crs.equals("EPSG:28992"):
        raise ValueError(f"districts must be in EPSG:28992; got {districts.crs}")
    out = gpd.GeoDataFrame(
        {c: districts[c].to_numpy() for c in PUBLIC_COLUMNS},
        geometry=districts.geometry.to_numpy(), crs=districts.crs,
    )
    unknown_ban = districts[UNKNOWN_COLUMN] if UNKNOWN_COLUMN in districts.columns else False
    out[UNKNOWN_COLUMN] = pd.Series(unknown_ban, index=districts.index).fillna(False).astype(bool).to_numpy()
    for column in _TEXT_COLUMNS:
        out[column] = out[column].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    duplicated = out["district_id"][out["district_id"].duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(f"column district_id must be unique; repeated: {', '.join(duplicated[:5])}")
    unknown = sorted(set(out["restriction"]) - set(BY_CODE))
    if unknown:
        raise ValueError(f"column restriction has unknown value(s) {unknown}; expected one of {list(BY_CODE)}")
    bad_bool = [v for v in out["groundwater_ban"] if not isinstance(v, (bool, np.bool_))]
    if bad_bool:
        raise ValueError(f"column groundwater_ban must be boolean; got {bad_bool[0]!r}")
    out["groundwater_ban"] = out["groundwater_ban"].astype(bool)
    out["valid_from"] = [_as_date(v, "column valid_from") for v in out["valid_from"]]
    bad_geometry = [i for i, g in zip(out["district_id"], out.geometry.values)
                    if g is None or g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad_geometry:
        raise ValueError(f"district(s) {', '.join(bad_geometry[:5])} lack a Polygon or MultiPolygon geometry")
    return out.sort_values("district_id", kind="stable").reset_index(drop=True)


def checked_metadata(metadata: dict) -> dict:
    """Return the publication metadata checked: tz-aware times, a date, plain strings.

    Keys: ``issued_at`` (tz-aware datetime), ``valid_from`` (date), ``data_ages``
    (``{source: tz-aware datetime of its newest input}``), ``software_version``,
    ``setup_name`` (str); optional ``notices`` (list of ``{"nl": str, "en": str}``: what the
    page must say about the data, e.g. a source that failed or ends before the day).
    """
    missing = [k for k in METADATA_KEYS if k not in metadata]
    if missing:
        raise ValueError(f"metadata lacks key(s) {', '.join(missing)}; expected {', '.join(METADATA_KEYS)}")
    issued_at = _as_aware(metadata["issued_at"], "metadata key issued_at")
    ages = metadata["data_ages"]
    if not isinstance(ages, dict):
        raise ValueError(f"metadata key data_ages must be a dict {{source: datetime}}; got {type(ages).__name__}")
    return {
        "issued_at": issued_at,
        "valid_from": _as_date(metadata["valid_from"], "metadata key valid_from"),
        "data_ages": {str(k): _as_aware(v, f"metadata key data_ages[{k!r}]") for k, v in ages.items()},
        "software_version": str(metadata["software_version"]),
        "setup_name": str(metadata["setup_name"]),
        "notices": _notices(metadata.get("notices") or []),
        "input_status": _input_status(metadata.get("input_status") or {}),
    }


def _notices(notices) -> list[dict]:
    if not isinstance(notices, list) or not all(isinstance(n, dict) and {"nl", "en"} <= set(n) for n in notices):
        raise ValueError("metadata key notices must be a list of {'nl': text, 'en': text}")
    return [{"nl": str(n["nl"]), "en": str(n["en"])} for n in notices]


def _input_status(status: dict) -> dict:
    """Optional ``input_status``: ``{source: {"count": n, "stale": [ids], "missing": [ids]}}``,
    the stations, wells or sensors of a source that are stale or without data (ids are
    measuring points, never people)."""
    if not isinstance(status, dict):
        raise ValueError(f"metadata key input_status must be a dict {{source: {{count, stale, missing}}}}; "
                         f"got {type(status).__name__}")
    checked = {}
    for source, entry in status.items():
        if not isinstance(entry, dict):
            raise ValueError(f"metadata key input_status[{source!r}] must be a dict; got {type(entry).__name__}")
        checked[str(source)] = {"count": int(entry.get("count", 0)),
                                "stale": [str(i) for i in entry.get("stale", [])],
                                "missing": [str(i) for i in entry.get("missing", [])]}
    return checked


def local_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` in Europe/Amsterdam, the time zone people read decisions in."""
    return moment.astimezone(AMSTERDAM)


def _as_date(value, where: str) -> dt.date:
    if isinstance(value, dt.datetime) or isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where} must be a date (YYYY-MM-DD); got {value!r}")


def _as_aware(value, where: str) -> dt.datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{where} must be a timezone-aware datetime; got {value!r}")
    return value
