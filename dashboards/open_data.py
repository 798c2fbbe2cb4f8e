"""Open data: the restrictions for other organisations' systems, in a stable schema.

- ``restrictions.geojson``: a FeatureCollection in EPSG:4326 (coordinates rounded to 6
  decimals, about 0.1 m), one feature per district, properties exactly ``PUBLIC_COLUMNS``
  plus ``issued_at``;
- ``restrictions.csv``: the same properties, one row per district, UTF-8, no geometry; a text
  cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, TAB
  or CR) gets a leading apostrophe (:func:`spreadsheet_safe`, OWASP's advice on CSV
  injection); the GeoJSON keeps the text as it is;
- ``metadata.json``: time of issue, validity, age of each input source, software version,
  schema version, and the SHA-256 of the two data files.

The column list and its meaning are in docs/contracts.md section 7; a change there is a
change of ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import geopandas as gpd
import shapely

from dashboards.geometry import WGS84, round_coordinates
from dashboards.public_record import PUBLIC_COLUMNS, UNKNOWN_COLUMN

#: 2: the ``restriction`` value ``unknown`` and the column ``groundwater_ban_unknown`` (last).
SCHEMA_VERSION = "2"
OPEN_DATA_COLUMNS: tuple[str, ...] = (*PUBLIC_COLUMNS, "issued_at", UNKNOWN_COLUMN)
GEOJSON_DECIMALS = 6
#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` with a leading ``'`` when it is text starting with a formula trigger, so that
    Excel or LibreOffice show it as text instead of running it; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_open_data(public: gpd.GeoDataFrame, metadata: dict, folder: Path) -> list[Path]:
    """Write ``restrictions.geojson``, ``restrictions.csv`` and ``metadata.json`` into ``folder``.

    ``public`` and ``metadata`` are the outputs of ``public_record.public_districts`` and
    ``public_record.checked_metadata``. Returns the paths written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    records = _records(public, metadata)
    geometry = round_coordinates(public.geometry.to_crs(WGS84), decimals=GEOJSON_DECIMALS)
    features = [
        {"type": "Feature", "properties": record,
         "geometry": json.loads(shapely.to_geojson(geom))}
        for record, geom in zip(records, geometry.values)
    ]
    geojson = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                         separators=(",", ":")).encode("utf-8")
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=OPEN_DATA_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({**{k: spreadsheet_safe(v) for k, v in r.items()},
                      "groundwater_ban": "true" if r["groundwater_ban"] else "false",
                      UNKNOWN_COLUMN: "true" if r[UNKNOWN_COLUMN] else "false"} for r in records)
    table = text.getvalue().encode("utf-8")

    paths = {"restrictions.geojson": geojson, "restrictions.csv": table}
    meta = {
        "schema_version": SCHEMA_VERSION,
        "issued_at": metadata["issued_at"].isoformat(),
        "valid_from": metadata["valid_from"].isoformat(),
        "data_ages": {source: t.isoformat() for source, t in sorted(metadata["data_ages"].items())},
        "notices": metadata.get("notices", []),
        "software_version": metadata["software_version"],
        "setup_name": metadata["setup_name"],
        "crs": WGS84,
        "columns": list(OPEN_DATA_COLUMNS),
        "districts": len(records),
        "files": {name: {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
                  for name, body in paths.items()},
    }
    paths["metadata.json"] = (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    written = []
    for name, body in paths.items():
        (folder / name).write_bytes(body)
        written.append(folder / name)
    return written


def _records(public: gpd.GeoDataFrame, metadata: dict) -> list[dict]:
    issued_at = metadata["issued_at"].isoformat()
    records = []
    columns = [*PUBLIC_COLUMNS, UNKNOWN_COLUMN]
    for row in public[columns].itertuples(index=False):
        record = dict(zip(columns, row))
        record["groundwater_ban"] = bool(record["groundwater_ban"])
        record["valid_from"] = record["valid_from"].isoformat()
        record["issued_at"] = issued_at
        record[UNKNOWN_COLUMN] = bool(record.pop(UNKNOWN_COLUMN))
        records.append(record)
    return records
