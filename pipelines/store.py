"""The processed store: Parquet tables updated in place by natural key.

``upsert`` merges new rows into a table: rows whose key is new are added, rows whose key
exists but whose values differ replace the old ones, identical rows are left alone, so
running the same ingest twice changes nothing. The table is written to a temporary file in
the same folder and moved over the old one with ``os.replace`` (atomic on one file system):
a crash mid-write leaves the previous table whole.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import xarray as xr


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
    """Write ``frame`` (GeoParquet for a GeoDataFrame) to ``path`` through a temporary file
    beside it, fsync and one ``os.replace``: a crash mid-write leaves the old file whole."""
    path = Path(path)
    return _atomically(path, lambda temporary: frame.to_parquet(temporary, index=False))


def write_netcdf(dataset: xr.Dataset, path: Path) -> Path:
    """Write ``dataset`` to netCDF at ``path`` atomically, like :func:`write_parquet`."""
    path = Path(path)
    return _atomically(path, lambda temporary: dataset.to_netcdf(temporary, engine="netcdf4"))


def write_text_atomic(text: str, path: Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, like :func:`write_parquet`."""
    path = Path(path)
    return _atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def _atomically(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
