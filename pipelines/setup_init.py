"""``droogte init``: a complete, commented setup of real water boards from real files.

Districts come from either

* the user's own polygons (GeoPackage, GeoJSON or Shapefile, any CRS), with the columns that
  hold the district id, name and water board named by options (a missing water-board column is
  filled from the carried water-board boundaries, by largest overlap); or
* the public boundaries the project carries (:mod:`pipelines.reference.geography`): each
  selected water board cut by the municipalities, one district per water board × municipality.
  Municipalities are a division every citizen knows and the water boards' own announcements
  use; the boards' management areas (peilgebieden) are finer but not public as one set.

Either way invalid geometry is repaired (:func:`shapely.make_valid`, polygonal parts kept) and
districts smaller than ``min_district_km2`` (slivers where generalised borders do not meet)
are dropped and reported. Then, from the folders the user names:

* the KNMI stations: the stations of the carried KNMI station table whose daily file
  (``etmgeg_<STN>.zip|txt``) is found, the ``stations_per_district`` nearest to each district;
* DINOloket groundwater CSVs and Delft-FEWS PI-XML/PI-JSON files whose wells or sensors lie
  inside the districts;
* the Rhine discharge at Lobith (``date,discharge_m3_s`` or a Rijkswaterstaat services export)
  and KNMI's national deficit series ``int_nl.dat``.

Every district property not given is filled with its documented default
(:mod:`models.allocation.district_defaults`) and listed in the district's ``assumed``
property; the setup file says the same in comments. Nothing is copied: the setup refers to the
data files where they are.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from models.allocation.district_defaults import BOARD_INLET_SHARE, DEFAULTS, describe_defaults, fill_defaults
from models.allocation.river_supply import PARAMETERS as RIVER_PARAMETERS
from models.indicators.surface_water import _TO_METRES as WATER_LEVEL_UNITS
from pipelines.reference.geography import reference_layer

KNMI_DAILY = re.compile(r"^etmgeg_(\d+)\.(zip|txt)$", re.IGNORECASE)
SENSOR_SUFFIXES = {".xml": "pi-xml", ".json": "pi-json"}


class InitError(ValueError):
    """The inputs of ``droogte init`` cannot make a setup; says which input and why."""


@dataclass
class InitReport:
    """What ``droogte init`` did: counts, what it dropped and what it assumed."""

    config: Path
    districts: int = 0
    water_boards: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    repaired: int = 0
    stations: list[str] = field(default_factory=list)
    wells: int = 0
    sensors: int = 0
    discharge: Path | None = None
    national_deficit: Path | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"setup written: {self.config}",
               f"  districts     {self.districts} in {len(self.water_boards)} water board(s): {', '.join(self.water_boards)}",
               f"  repaired      {self.repaired} invalid geometr{'y' if self.repaired == 1 else 'ies'}",
               f"  dropped       {len(self.dropped)} sliver(s)" + (f": {'; '.join(self.dropped[:10])}"
                                                                   + (" ..." if len(self.dropped) > 10 else "")
                                                                   if self.dropped else ""),
               f"  stations      {', '.join(self.stations) or 'none'}",
               f"  wells         {self.wells} DINO file(s) inside the area",
               f"  sensors       {self.sensors} FEWS file(s) with sensors inside the area",
               f"  discharge     {self.discharge or 'none found: constant supply written (replace it)'}",
               f"  climatology   {self.national_deficit or 'none found (the setup own record is used)'}"]
        out += [f"  note          {n}" for n in self.notes]
        return out


# --- districts ------------------------------------------------------------------------------


def districts_from_boundaries(boards: list[str], *, min_district_km2: float = 1.0):
    """Districts = the selected water boards × the municipalities, EPSG:28992.

    ``boards``: codes (``WS21``) or parts of names (``Rijnland``), or ``["all"]``. Returns
    ``(districts, dropped, repaired)``."""
    water_boards = reference_layer("water_boards", crs="EPSG:28992")
    chosen = _select_boards(water_boards, boards)
    municipalities = reference_layer("municipalities", crs="EPSG:28992")
    pieces = gpd.overlay(chosen[["code", "name", "geometry"]].rename(columns={"code": "water_board",
                                                                              "name": "board_name"}),
                         municipalities[["code", "name", "geometry"]], how="intersection", keep_geom_type=True)
    pieces["district_id"] = pieces["water_board"] + "-" + pieces["code"]
    frame = gpd.GeoDataFrame({"district_id": pieces["district_id"], "name": pieces["name"],
                              "water_board": pieces["water_board"], "board_name": pieces["board_name"]},
                             geometry=pieces.geometry, crs=pieces.crs)
    frame = frame.dissolve(by="district_id", as_index=False, aggfunc="first")
    return _clean(frame, min_district_km2)


def districts_from_file(path: Path, *, id_column: str, name_column: str | None = None,
                        board_column: str | None = None, min_district_km2: float = 1.0):
    """The user's own district polygons (any format geopandas reads, any CRS) → EPSG:28992.

    Returns ``(districts, dropped, repaired)``; ``board_name`` from the carried boundaries
    where the water board was derived from them."""
    path = Path(path)
    if not path.exists():
        raise InitError(f"{path}: districts file not found")
    try:
        raw = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InitError(f"{path}: cannot read as GeoPackage, GeoJSON or Shapefile: {exc}") from None
    if raw.crs is None:
        raise InitError(f"{path}: no CRS; give the file a CRS (e.g. EPSG:28992) so it can be placed")
    for option, column in (("--id-column", id_column), ("--name-column", name_column),
                           ("--board-column", board_column)):
        if column is not None and column not in raw.columns:
            raise InitError(f"{path}: {option} {column!r} is not a column; columns are "
                            f"{[c for c in raw.columns if c != 'geometry']}")
    raw = raw.to_crs(28992)
    frame = gpd.GeoDataFrame({"district_id": raw[id_column].astype(str),
                              "name": raw[name_column].astype(str) if name_column else raw[id_column].astype(str)},
                             geometry=raw.geometry, crs=raw.crs)
    duplicated = frame["district_id"][frame["district_id"].duplicated()]
    if len(duplicated):
        raise InitError(f"{path}: {id_column} is not unique: {sorted(set(duplicated))[:5]}")
    for column in DEFAULTS:  # the user's own values of any district property are kept
        if column in raw.columns:
            frame[column] = pd.to_numeric(raw[column], errors="coerce")
    boards = reference_layer("water_boards", crs="EPSG:28992")
    if board_column:
        frame["water_board"] = raw[board_column].astype(str)
        names = dict(zip(boards["code"], boards["name"], strict=True))
        frame["board_name"] = frame["water_board"].map(names).fillna(frame["water_board"])
    else:
        frame = _board_by_overlap(frame, boards)
    return _clean(frame, min_district_km2)


def _select_boards(boards: gpd.GeoDataFrame, wanted: list[str]) -> gpd.GeoDataFrame:
    if [w.lower() for w in wanted] == ["all"]:
        return boards
    keep = np.zeros(len(boards), bool)
    for w in wanted:
        hit = (boards["code"].str.lower() == w.lower()).to_numpy() | \
            boards["name"].str.lower().str.contains(w.lower(), regex=False).to_numpy()
        if not hit.any():
            raise InitError(f"--boards: no water board matches {w!r}; known: "
                            + "; ".join(f"{c} {n}" for c, n in zip(boards["code"], boards["name"], strict=True)))
        keep |= hit
    return boards[keep]


def _board_by_overlap(frame: gpd.GeoDataFrame, boards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The water board of each district: the carried board it overlaps most."""
    repaired = frame.assign(geometry=shapely.make_valid(frame.geometry.values))
    pieces = gpd.overlay(repaired[["district_id", "geometry"]], boards[["code", "name", "geometry"]],
                         how="intersection", keep_geom_type=True)
    pieces["area"] = pieces.area
    best = pieces.sort_values("area").drop_duplicates("district_id", keep="last").set_index("district_id")
    out = frame.copy()
    out["water_board"] = out["district_id"].map(best["code"])
    out["board_name"] = out["district_id"].map(best["name"])
    outside = out["water_board"].isna()
    if outside.all():
        raise InitError("none of the districts lies within a Dutch water board; is the CRS of the file right?")
    out.loc[outside, "water_board"] = "outside"
    out.loc[outside, "board_name"] = "outside the carried water boards"
    return out


def _clean(frame: gpd.GeoDataFrame, min_district_km2: float):
    """Repair invalid geometry, keep polygons, drop slivers; returns (frame, dropped, repaired)."""
    invalid = ~frame.geometry.is_valid
    repaired = int(invalid.sum())
    geometry = shapely.make_valid(frame.geometry.values)
    frame = frame.assign(geometry=[_polygonal(g) for g in geometry])
    area_km2 = frame.geometry.area / 1e6
    small = (area_km2 < min_district_km2) | frame.geometry.is_empty
    dropped = [f"{d} ({n}, {a:.3f} km²)" for d, n, a in
               zip(frame.loc[small, "district_id"], frame.loc[small, "name"], area_km2[small], strict=True)]
    frame = frame.loc[~small].reset_index(drop=True)
    if frame.empty:
        raise InitError(f"no district of at least {min_district_km2} km² is left; lower --min-district-km2")
    return frame, dropped, repaired


def _polygonal(geometry):
    if geometry is None:
        return shapely.Polygon()
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


# --- data files found in the user's folders ---------------------------------------------------


def _files(folders: list[Path]) -> list[Path]:
    out = []
    for folder in folders:
        if not folder.is_dir():
            raise InitError(f"--data {folder}: not a folder")
        out += sorted(p for p in folder.rglob("*") if p.is_file())
    return list(dict.fromkeys(p.resolve() for p in out))  # a folder named twice counts once


def choose_stations(districts: gpd.GeoDataFrame, files: list[Path], *, per_district: int = 3) -> pd.DataFrame:
    """KNMI stations with a daily file among ``files``, the ``per_district`` nearest to each
    district's centroid: columns ``id``, ``name``, ``x``, ``y`` (EPSG:28992, m), ``file``."""
    from pipelines.ingest.sources.knmi import knmi_stations

    found = {}
    for path in files:
        match = KNMI_DAILY.match(path.name)
        if match:
            found.setdefault(str(int(match.group(1))), path)
    table = knmi_stations()
    table = table[table["station"].astype(str).isin(found)]
    if table.empty:
        raise InitError("no KNMI daily station file (etmgeg_<STN>.zip or .txt) of a known station found in "
                        "the --data folders; download them from KNMI's daily data page for stations near the area")
    centroids = districts.geometry.representative_point()
    xy = np.column_stack([table.geometry.x, table.geometry.y])
    chosen: set[str] = set()
    for point in centroids:
        distance = np.hypot(xy[:, 0] - point.x, xy[:, 1] - point.y)
        for i in np.argsort(distance)[:per_district]:
            chosen.add(str(table["station"].iloc[i]))
    rows = table[table["station"].astype(str).isin(chosen)]
    return pd.DataFrame({"id": rows["station"].astype(str).to_numpy(), "name": rows["name"].to_numpy(),
                         "x": rows.geometry.x.round(0).to_numpy(), "y": rows.geometry.y.round(0).to_numpy(),
                         "file": [found[str(s)] for s in rows["station"]]}).sort_values("id", key=lambda s: s.astype(int))


def find_wells(area, files: list[Path]) -> list[Path]:
    """DINOloket CSVs with levels whose well lies inside ``area`` (a polygon in EPSG:28992)."""
    from pipelines.ingest.sources.dino import read_dino_csv
    from pipelines.ingest.sources.errors import SourceFormatError

    chosen: dict[Path, tuple[frozenset, pd.Timestamp]] = {}
    for path in files:
        if path.suffix.lower() != ".csv" or not _looks_like_dino(path):
            continue
        try:
            record = read_dino_csv(path)
        except SourceFormatError:
            continue  # a CSV of another kind, or a DINO file without levels: not a well to use
        if record.levels.empty or record.wells.empty or not record.wells.geometry.within(area).any():
            continue
        wells, newest = frozenset(record.levels["well"].astype(str)), record.levels["time"].max()
        # The same well exported twice (an older and a newer DINO layout) would repeat its
        # readings: keep the export that reaches furthest.
        same = [other for other, (ids, _) in chosen.items() if ids & wells]
        if any(chosen[other][1] >= newest for other in same):
            continue
        for other in same:
            del chosen[other]
        chosen[path] = (wells, newest)
    return list(chosen)


def _looks_like_dino(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4000).decode("latin-1")
    return "Locatie" in head and ("Filternummer" in head or "Peildatum" in head)


def find_sensors(area, files: list[Path]) -> list[tuple[Path, str]]:
    """Delft-FEWS PI-XML/PI-JSON files (also zipped) with a sensor inside ``area`` (EPSG:28992)."""
    from pipelines.ingest.sources.errors import SourceFormatError
    from pipelines.ingest.sources.fews import read_pi_json, read_pi_xml

    out = []
    for path in files:
        name = path.name.lower()
        fmt = next((f for s, f in SENSOR_SUFFIXES.items() if name.endswith(s) or name.endswith(s + ".zip")), None)
        if fmt is None and name.endswith(".zip") and _zip_has(path, ".xml"):
            fmt = "pi-xml"
        if fmt is None or not _looks_like_pi(path, fmt):
            continue
        try:
            series = (read_pi_xml if fmt == "pi-xml" else read_pi_json)(path)
        except SourceFormatError:
            continue
        meta = series.meta
        # Only water levels: the surface-water indicator reads levels (a file of radar rainfall
        # in mm, say, is another kind of series and would stop the run).
        units = meta["unit"].astype(str).str.strip().str.lower() if "unit" in meta else pd.Series([], dtype=str)
        if not len(meta) or meta.crs is None or not units.isin(list(WATER_LEVEL_UNITS)).all():
            continue
        if meta.to_crs(28992).geometry.within(area).any():
            out.append((path, fmt))
    return out


def _zip_has(path: Path, suffix: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return any(n.lower().endswith(suffix) for n in z.namelist())
    except zipfile.BadZipFile:
        return False


def _looks_like_pi(path: Path, fmt: str) -> bool:
    import zipfile

    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                name = next((n for n in z.namelist() if n.lower().endswith((".xml", ".json"))), None)
                head = z.open(name).read(3000).decode("utf-8", "replace") if name else ""
        except zipfile.BadZipFile:
            return False
    else:
        head = path.read_bytes()[:3000].decode("utf-8", "replace")
    return "wldelft.nl/fews/PI" in head if fmt == "pi-xml" else '"timeSeries"' in head


def find_discharge(files: list[Path]) -> Path | None:
    """A Lobith discharge file: ``date,discharge_m3_s`` or a services export naming Lobith."""
    for path in files:
        if path.suffix.lower() != ".csv":
            continue
        with open(path, "rb") as f:
            head = f.read(4000).decode("latin-1")
        if head.lstrip().startswith("date,discharge_m3_s") and "lobith" in path.name.lower():
            return path
        if "WAARNEMINGDATUM" in head and ("LOBI" in head or "Lobith" in head):
            return path
    return None


def find_national_deficit(files: list[Path]) -> Path | None:
    return next((p for p in files if p.name.lower() == "int_nl.dat"), None)


# --- the setup --------------------------------------------------------------------------------


def init_setup(out: Path, *, data: list[Path], boards: list[str] | None = None, districts_file: Path | None = None,
               id_column: str | None = None, name_column: str | None = None, board_column: str | None = None,
               name: str | None = None, min_district_km2: float = 1.0, stations_per_district: int = 3) -> InitReport:
    """Write ``out/droogte.yaml`` and ``out/districts.geojson``; see the module docstring."""
    out = Path(out).resolve()
    if (boards is None) == (districts_file is None):
        raise InitError("give either --boards (codes or names of water boards, or 'all') or --districts FILE")
    if districts_file is not None:
        if not id_column:
            raise InitError("--districts needs --id-column (the column holding each district's unique id)")
        frame, dropped, repaired = districts_from_file(districts_file, id_column=id_column, name_column=name_column,
                                                       board_column=board_column, min_district_km2=min_district_km2)
    else:
        frame, dropped, repaired = districts_from_boundaries(boards, min_district_km2=min_district_km2)
    files = _files([Path(d).resolve() for d in data])
    area = shapely.union_all(frame.geometry.values)

    filled, assumed = fill_defaults(frame.drop(columns="geometry"), frame.geometry.area.to_numpy())
    districts = gpd.GeoDataFrame(filled.assign(assumed=assumed.to_numpy()), geometry=frame.geometry, crs=frame.crs)
    stations = choose_stations(districts, files, per_district=stations_per_district)
    wells = find_wells(area, files)
    sensors = find_sensors(area, files)
    discharge = find_discharge(files)
    national_deficit = find_national_deficit(files)

    out.mkdir(parents=True, exist_ok=True)
    board_table = (districts.groupby("water_board")
                   .agg(name=("board_name", "first"), capacity=("inlet_capacity_m3_day", "sum")).reset_index())
    # The setup's share of the national regional supply, by area (an assumption, said in the
    # file): of whole boards, their share of the 21; of own polygons, theirs.
    reference = reference_layer("water_boards", crs="EPSG:28992")
    national_area = reference.geometry.area.sum()
    if districts_file is None:
        mine = reference[reference["code"].isin(set(districts["water_board"]))].geometry.area.sum()
        setup_share = float(mine / national_area)
    else:
        setup_share = min(float(area.area / national_area), 1.0)
    setup_name = name or ("nl" if boards and [b.lower() for b in boards] == ["all"] else
                          "-".join(board_table["water_board"].str.lower()))
    _write_districts(out / "districts.geojson", districts)
    config_path = out / "droogte.yaml"
    text = _config_text(out, setup_name, stations, wells, sensors, board_table, discharge, national_deficit,
                        setup_share, assumed_count=int((assumed != "").sum()), n=len(districts),
                        data=[Path(d).resolve() for d in data])
    tmp = config_path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, config_path)

    report = InitReport(config=config_path, districts=len(districts), water_boards=list(board_table["water_board"]),
                        dropped=dropped, repaired=repaired, stations=list(stations["id"]), wells=len(wells),
                        sensors=len(sensors), discharge=discharge, national_deficit=national_deficit)
    if discharge is None:
        report.notes.append("without a discharge series the national supply is a constant; see source: in the file")
    report.notes.append(f"every district property of the {len(districts)} districts is a documented default "
                        "(assumed); replace them in districts.geojson (see the comments in droogte.yaml)")
    return report


def _write_districts(path: Path, districts: gpd.GeoDataFrame) -> None:
    columns = ["district_id", "name", "water_board", *DEFAULTS, "assumed", "geometry"]
    tmp = path.with_suffix(".geojson.tmp")
    # GeoJSON with the RD New CRS named, as docs/contracts.md section 3 asks; coordinates to 0.1 m.
    districts[columns].to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=1, WRITE_NAME=False)
    os.replace(tmp, path)


def _rel(path: Path, base: Path) -> str:
    """The path relative to the setup folder where that is the shorter way to write it."""
    relative = os.path.relpath(path, base)
    return relative if len(relative) <= len(str(path)) else str(path)


def _q(text: str) -> str:
    """A YAML double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config_text(out: Path, name: str, stations: pd.DataFrame, wells: list[Path], sensors: list[tuple[Path, str]],
                 boards: pd.DataFrame, discharge: Path | None, national_deficit: Path | None, setup_share: float,
                 *, assumed_count: int, n: int, data: list[Path]) -> str:
    lines = [
        f"# droogte setup {name!r}, written by 'droogte init' on {dt.date.today().isoformat()}.",
        "# It runs as it is: droogte run --config <this file> [--date YYYY-MM-DD]",
        "# Paths are relative to this file; nothing was copied. pipelines/config.py documents every key.",
        "#",
        f"# ASSUMED VALUES: {assumed_count} of {n} districts carry documented defaults for their properties",
        "# (the property 'assumed' in districts.geojson lists them per district; the published pages say so).",
        "# Replace them in districts.geojson with the board's own figures. Defaults (models/allocation/district_defaults.py):",
        *[f"#   {line}" for line in describe_defaults()],
        "",
        f"name: {_q(name)}",
        "districts: districts.geojson",
        "# The data folders named to droogte init: the setup reads its files where they are.",
        "allow_inputs_from:" if data else "allow_inputs_from: []",
        *[f"  - {_q(_rel(d, out))}" for d in data],
        "",
        "# KNMI stations with a daily file in the data folders, the nearest to each district",
        "# (positions from the KNMI station table the project carries, EPSG:28992 metres).",
        "stations:",
    ]
    for s in stations.itertuples():
        lines.append(f"  - {{id: {_q(s.id)}, name: {_q(s.name)}, x: {s.x:.0f}, y: {s.y:.0f}, file: {_q(_rel(s.file, out))}}}")
    lines += ["", "# DINOloket groundwater files whose well lies inside the districts. lower_limit_m_nap:",
              "# the level below which the well counts as low; without it, the well's own 10th percentile",
              "# in that calendar month (assumed)."]
    lines += ["wells:" if wells else "wells: []"]
    lines += [f"  - {{file: {_q(_rel(w, out))}}}" for w in wells]
    lines += ["", "# Delft-FEWS files with sensors inside the districts (surface-water levels)."]
    lines += ["sensors:" if sensors else "sensors: []"]
    lines += [f"  - {{file: {_q(_rel(p, out))}, format: {fmt}}}" for p, fmt in sensors]
    lines += ["", "# Water boards: inlet capacity from the national system, m3/day. ASSUMED:",
              f"# {BOARD_INLET_SHARE.source} (typical {BOARD_INLET_SHARE.typical[0]:g}-{BOARD_INLET_SHARE.typical[1]:g}).",
              "water_boards:"]
    for b in boards.itertuples():
        lines.append(f"  - {{id: {_q(b.water_board)}, name: {_q(b.name)}, "
                     f"inlet_capacity_m3_day: {BOARD_INLET_SHARE.value * b.capacity:.4g}}}")
    lines += [""]
    if discharge is not None:
        lines += ["# The national source: the Rhine discharge at Lobith (m3/s) through the river supply model",
                  "# (models/allocation/river_supply.py). Parameters, all ASSUMED unless you change them:"]
        lines += [f"#   {k}: {p.default:g} {p.unit} (typical {p.typical[0]:g}-{p.typical[1]:g}); {p.source}"
                  for k, p in RIVER_PARAMETERS.items()]
        lines += ["# national_criteria: the LCW's public Lobith criteria the national escalation uses",
                  "# (threatening shortage below about 1,400 m3/s; in summer it acts around 1,200 m3/s).",
                  "source:",
                  f"  discharge: {_q(_rel(discharge, out))}",
                  "  river_model:",
                  f"    setup_share: {setup_share:.4g}   # ASSUMED: this setup's share of the area of the 21 water boards"]
        lines += ["  national_criteria: {threatening_m3_s: 1400, acting_m3_s: 1200}"]
    else:
        total = float(boards["capacity"].sum())
        lines += ["# The national source: no Lobith discharge file was found, so a constant supply (m3/day),",
                  "# ASSUMED equal to the boards' inlet capacities: no national shortage. Replace it by",
                  "# discharge: <lobith file> (see the README, 'your own water board').",
                  "source:", f"  supply_m3_day: {BOARD_INLET_SHARE.value * total:.4g}"]
    lines += ["",
              "# Order inside categories 3 and 4 of the verdringingsreeks (categories 1 and 2 are national).",
              "priorities:",
              "  category_3: [high_value_irrigation, process_water]",
              "  category_4: [agriculture, nature_other, industry, shipping, recreation]",
              "",
              "# Restriction rules: the defaults of models/restrictions/rules.py for every board.",
              "rules: {}",
              ""]
    if national_deficit is not None:
        lines += ["# KNMI's national deficit series, for the deficit chart's climatology.",
                  "climatology:", f"  knmi_national_deficit: {_q(_rel(national_deficit, out))}", ""]
    lines += ["output:", "  processed: processed", "  site: site", "  raw_archive: archive",
              "publication: {approval: auto}", "dask: {workers: 2}", "outlook: {horizon_days: 42}", ""]
    return "\n".join(lines)
