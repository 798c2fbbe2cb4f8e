"""Open data: the restrictions for other organisations' systems, in a stable schema.

- ``restrictions.geojson``: a FeatureCollection in EPSG:4326 (coordinates rounded to 6
  decimals, about 0.1 m), one feature per district, properties exactly ``PUBLIC_COLUMNS``
  plus ``issued_at``;
- ``restrictions.csv``: the same properties, one row per district, UTF-8, no geometry;
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
from dashboards.public_record import PUBLIC_COLUMNS

SCHEMA_VERSION = "1"
OPEN_DATA_COLUMNS: tuple[str, ...] = (*PUBLIC_COLUMNS, "issued_at")
GEOJSON_DECIMALS = 6


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
    writer.writerows({**r, "groundwater_ban": "true" if r["groundwater_ban"] else "false"} for r in records)
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
    for row in public[list(PUBLIC_COLUMNS)].itertuples(index=False):
        record = dict(zip(PUBLIC_COLUMNS, row))
        record["groundwater_ban"] = bool(record["groundwater_ban"])
        record["valid_from"] = record["valid_from"].isoformat()
        record["issued_at"] = issued_at
        records.append(record)
    return records
