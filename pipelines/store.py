"""The processed store of a setup, ``data/processed/<setup>/``: its file names, typed reads and
the one atomic writer.

Every stage, the ingest flows, the approval record and the decision log read and write their
files through :class:`Store`, so the names of the files are written down once (here) and
every write goes through :func:`write_atomically`: the data go to a temporary file in the
same folder, are fsynced, and are moved over the old file with one ``os.replace`` (atomic on
one file system). A crash mid-write leaves the previous file whole. The raw archive
(``pipelines/ingest/archive.py``) writes its copies through the same function.

``upsert`` merges new rows into a table: rows whose key is new are added, rows whose key
exists but whose values differ replace the old ones, identical rows are left alone, so
running the same ingest twice changes nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import xarray as xr

from models.restrictions import decision_log

# --- the files of the processed folder (docs/contracts.md) --------------------------------
# ingest (section 2): tables upserted on their natural key
METEO_TABLE = "meteo.parquet"
STATIONS_TABLE = "stations.parquet"
GROUNDWATER_TABLE = "groundwater.parquet"
WELLS_TABLE = "wells.parquet"
SENSORS_TABLE = "sensors.parquet"
SENSORS_META_TABLE = "sensors_meta.parquet"
QUARANTINE_TABLE = "quarantine.parquet"
INGESTED_TABLE = "ingested_files.parquet"
QC_FOLDER = "qc"
# indicators, allocation and outlook (sections 4, 5)
INDICATORS = "indicators.nc"
WEATHER = "district_weather.nc"
ALLOCATION = "allocation.nc"
OUTLOOK = "outlook.nc"
# restrictions, approval and publication (section 6)
TRIGGERS = "triggers.nc"
DECISION_LOG = "decisions.parquet"
ESCALATION = "escalation.parquet"
ESCALATION_HISTORY = "escalation_history.parquet"  # the levels of every day of the season so far
PUBLISHED = "published.parquet"
#: district tracks without a valid earlier decision while a source holds no data (models/restrictions/missing_input.py)
UNKNOWN_DECISIONS = "unknown_decisions.parquet"
APPROVALS = "approvals.parquet"
TIMELINE = "timeline.json"  # how far the decision log has decided (pipelines/timeline.py)


@dataclass(frozen=True)
class Store:
    """The processed folder of one setup. Reads return ``None`` (tables) or raise
    ``FileNotFoundError`` naming the file and the stage that writes it (datasets)."""

    folder: Path

    def path(self, name: str) -> Path:
        """Where file ``name`` of this store lives."""
        return Path(self.folder) / name

    def table(self, name: str, *, geo: bool = False) -> pd.DataFrame | None:
        """A Parquet table (GeoParquet with ``geo``); ``None`` when it has not been written."""
        path = self.path(name)
        if not path.exists():
            return None
        return gpd.read_parquet(path) if geo else pd.read_parquet(path)

    def dataset(self, name: str) -> xr.Dataset:
        """A netCDF dataset, loaded into memory (the file is closed again)."""
        path = self.path(name)
        if not path.exists():
            raise FileNotFoundError(f"{path}: not written yet; the stage that writes {name} has not run")
        with xr.open_dataset(path, engine="netcdf4") as dataset:
            return dataset.load()

    def attributes(self, name: str) -> dict:
        """The global attributes of a netCDF dataset, without reading its values; ``{}`` when absent."""
        path = self.path(name)
        if not path.exists():
            return {}
        with xr.open_dataset(path, engine="netcdf4") as dataset:
            return dict(dataset.attrs)

    def weather(self) -> xr.Dataset:
        """The areal weather per district (``precipitation_mm``, ``evaporation_mm``, mm/day)."""
        return self.dataset(WEATHER)

    def write_table(self, frame: pd.DataFrame, name: str) -> Path:
        """Write ``frame`` as Parquet (GeoParquet for a GeoDataFrame) atomically."""
        return write_parquet(frame, self.path(name))

    def write_dataset(self, dataset: xr.Dataset, name: str) -> Path:
        """Write ``dataset`` as netCDF atomically."""
        return write_netcdf(dataset, self.path(name))

    def write_text(self, text: str, name: str) -> Path:
        """Write UTF-8 text (e.g. a JSON report) atomically."""
        return write_atomically(self.path(name), lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))

    def upsert(self, name: str, new: pd.DataFrame, key: list[str]) -> UpsertResult:
        """Merge ``new`` into table ``name`` on ``key`` (see :func:`upsert`)."""
        return upsert(self.path(name), new, key)

    def upsert_metadata(self, name: str, new: gpd.GeoDataFrame, key: str) -> None:
        """Replace the rows of GeoParquet table ``name`` whose ``key`` is in ``new``."""
        upsert_metadata(self.path(name), new, key)

    def latest(self, name: str, key_col: str, time_col: str) -> dict:
        """Newest ``time_col`` per ``key_col`` in table ``name``; ``{}`` when absent."""
        return latest(self.path(name), key_col, time_col)

    def decision_log(self) -> pd.DataFrame:
        """The decision log (docs/contracts.md section 6); an empty log before the first run."""
        path = self.path(DECISION_LOG)
        if not path.exists():
            return decision_log.empty_log()
        return decision_log.checked_log(pd.read_parquet(path), where=str(path))

    def write_decision_log(self, log: pd.DataFrame) -> Path:
        """Check the log (types, unique ``record_id``) and write it atomically."""
        path = self.path(DECISION_LOG)
        return write_parquet(decision_log.checked_for_saving(log, where=f"log for {path}"), path)

    def append(self, name: str, row: dict) -> Path:
        """Add one row to a small record table (e.g. the approvals), keeping the earlier rows."""
        new = pd.DataFrame([row])
        old = self.table(name)
        return self.write_table(new if old is None else pd.concat([old, new], ignore_index=True), name)


@dataclass(frozen=True)
class UpsertResult:
    """How many rows of ``new`` were added, changed existing rows, or were already there."""

    added: int
    updated: int
    unchanged: int


def upsert(table_path: Path, new: pd.DataFrame, key: list[str]) -> UpsertResult:
    """Merge ``new`` into the Parquet table at ``table_path`` on the natural ``key``.

    ``new`` must have unique keys and, when the table exists, the same columns. The result
    is sorted by ``key``. Raises ``ValueError`` naming the problem otherwise.
    """
    table_path = Path(table_path)
    missing = [column for column in key if column not in new.columns]
    if missing:
        raise ValueError(f"{table_path}: new rows lack key column(s) {missing}")
    if new.duplicated(key).any():
        sample = new.loc[new.duplicated(key, keep=False), key].head(3).to_dict("records")
        raise ValueError(f"{table_path}: new rows repeat the key {key}, e.g. {sample}")

    if table_path.exists():
        old = pd.read_parquet(table_path)
        if set(old.columns) != set(new.columns):
            raise ValueError(
                f"{table_path}: columns differ; table has {sorted(old.columns)}, "
                f"new rows have {sorted(new.columns)}"
            )
        new = new[list(old.columns)]
    else:
        old = new.iloc[0:0]

    old_keyed = old.set_index(key)
    new_keyed = new.set_index(key)
    existing = new_keyed.index.isin(old_keyed.index)
    added = int((~existing).sum())
    common = new_keyed.index[existing]
    before = old_keyed.loc[common]
    after = new_keyed.loc[common]
    # a row is unchanged when every value is equal or both are missing
    same = ((before == after) | (before.isna() & after.isna())).all(axis=1)
    unchanged = int(same.sum())
    updated = len(common) - unchanged
    if added == 0 and updated == 0 and table_path.exists():
        return UpsertResult(0, 0, unchanged)

    kept = old_keyed.loc[~old_keyed.index.isin(new_keyed.index)]
    merged = pd.concat([kept, new_keyed]).reset_index().sort_values(key, kind="stable")
    write_parquet(merged.reset_index(drop=True), table_path)
    return UpsertResult(added, updated, unchanged)


def latest(table_path: Path, key_col: str, time_col: str) -> dict:
    """Newest ``time_col`` per value of ``key_col`` (e.g. per station or sensor), for fetching
    only what is newer. An absent table gives ``{}``."""
    table_path = Path(table_path)
    if not table_path.exists():
        return {}
    table = pd.read_parquet(table_path, columns=[key_col, time_col])
    return table.groupby(key_col)[time_col].max().to_dict()


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: The mode an ordinary new file gets under this process's umask.
_NEW_FILE_MODE = _new_file_mode()


def upsert_metadata(table_path: Path, new: gpd.GeoDataFrame, key: str) -> None:
    """Replace the rows of the GeoParquet metadata table at ``table_path`` whose ``key`` is in
    ``new`` and keep the others (a station whose file failed today keeps yesterday's row)."""
    table_path = Path(table_path)
    if table_path.exists():
        old = gpd.read_parquet(table_path)
        new = pd.concat([old[~old[key].isin(new[key])], new], ignore_index=True)
    write_parquet(gpd.GeoDataFrame(new, geometry="geometry", crs=new.crs).sort_values(key, ignore_index=True),
                  table_path)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (GeoParquet for a GeoDataFrame) to ``path`` atomically."""
    return write_atomically(Path(path), lambda temporary: frame.to_parquet(temporary, index=False))


def write_netcdf(dataset: xr.Dataset, path: Path) -> Path:
    """Write ``dataset`` to netCDF at ``path`` atomically."""
    return write_atomically(Path(path), lambda temporary: dataset.to_netcdf(temporary, engine="netcdf4"))


def write_atomically(path: Path, write: Callable[[str], object]) -> Path:
    """The one atomic writer: ``write(temporary)`` fills a temporary file beside ``path``,
    which is fsynced, given the usual file mode and moved over ``path`` in one
    ``os.replace``. On any failure the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path.name), suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, _NEW_FILE_MODE)  # mkstemp makes 0600; others may read processed data
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def temporary_prefix(name: str) -> str:
    """Prefix of the temporary file beside ``name`` while it is written: it carries the
    writer's process id, so a later run can tell a crashed writer's leftover from a write in
    progress (:func:`remove_interrupted_writes`)."""
    return f".{name}.pid{os.getpid()}-"


#: Temporary files of the writers of this project: ``.<name>.pid<PID>-<random>.tmp`` (this
#: module and the decision log) and ``.incoming-pid<PID>-<random>`` (the raw archive).
_TEMPORARY = re.compile(r"^\.(?:.+\.pid(?P<pid>\d+)-[^/]*\.tmp|incoming-pid(?P<pid2>\d+)-[^/]*)$")
#: Temporary files named before they carried a process id: removed once this old (s).
_OLD_TEMPORARY = re.compile(r"^\.(?:.+\.[^.]+\.tmp|incoming-[^/]+)$")
_OLD_TEMPORARY_AGE_S = 24 * 3600


def remove_interrupted_writes(folder: Path) -> list[Path]:
    """Remove the temporary files that writers killed mid-write left in ``folder`` and below
    (their target files are whole: a write only replaces its target at the end). A temporary
    file whose writer still runs is kept. Returns the files removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    now = time.time()
    for path in folder.rglob(".*"):
        match = _TEMPORARY.match(path.name)
        try:
            if match:
                pid = int(match.group("pid") or match.group("pid2"))
                if _running(pid):
                    continue
            elif not (_OLD_TEMPORARY.match(path.name) and now - path.stat().st_mtime > _OLD_TEMPORARY_AGE_S):
                continue
            if path.is_file():
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue  # finished and renamed meanwhile
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
