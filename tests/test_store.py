"""Processed store: idempotent upsert on the natural key, atomic writes, latest per key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.store import UpsertResult, latest, upsert

KEY = ["station", "date"]


def _meteo(days: list[str], rain: list[float], station: str = "260") -> pd.DataFrame:
    return pd.DataFrame(
        {"station": station, "date": pd.to_datetime(days), "precipitation_mm": rain}
    )


def test_upsert_adds_updates_and_is_idempotent(tmp_path: Path) -> None:
    table = tmp_path / "meteo.parquet"
    assert upsert(table, _meteo(["2026-06-01", "2026-06-02"], [1.0, np.nan]), KEY) == UpsertResult(2, 0, 0)
    again = _meteo(["2026-06-01", "2026-06-02"], [1.0, np.nan])
    assert upsert(table, again, KEY) == UpsertResult(0, 0, 2)
    # a corrected value for 06-02 and a new day
    result = upsert(table, _meteo(["2026-06-02", "2026-06-03"], [4.5, 0.0]), KEY)
    assert result == UpsertResult(1, 1, 0)
    stored = pd.read_parquet(table)
    assert stored["precipitation_mm"].tolist() == [1.0, 4.5, 0.0]
    assert latest(table, "station", "date") == {"260": pd.Timestamp("2026-06-03")}


def test_latest_per_key_and_absent_table(tmp_path: Path) -> None:
    table = tmp_path / "meteo.parquet"
    assert latest(table, "station", "date") == {}
    upsert(table, pd.concat([_meteo(["2026-06-01"], [1.0], "249"),
                             _meteo(["2026-06-05"], [2.0], "260")]), KEY)
    assert latest(table, "station", "date") == {
        "249": pd.Timestamp("2026-06-01"), "260": pd.Timestamp("2026-06-05")}


def test_crash_mid_write_leaves_old_table_whole(tmp_path: Path, monkeypatch) -> None:
    table = tmp_path / "meteo.parquet"
    upsert(table, _meteo(["2026-06-01"], [1.0]), KEY)
    before = table.read_bytes()

    def crash(self, path, **kwargs):
        Path(path).write_bytes(b"half a parquet file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(OSError, match="disk full"):
        upsert(table, _meteo(["2026-06-02"], [2.0]), KEY)
    assert table.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meteo.parquet"]


def test_bad_input_is_refused_with_the_table_named(tmp_path: Path) -> None:
    table = tmp_path / "meteo.parquet"
    with pytest.raises(ValueError, match="meteo.parquet.*repeat the key"):
        upsert(table, _meteo(["2026-06-01", "2026-06-01"], [1.0, 2.0]), KEY)
    upsert(table, _meteo(["2026-06-01"], [1.0]), KEY)
    with pytest.raises(ValueError, match="columns differ"):
        upsert(table, _meteo(["2026-06-02"], [1.0]).assign(extra=1), KEY)
    with pytest.raises(ValueError, match="lack key"):
        upsert(table, pd.DataFrame({"station": ["260"]}), KEY)


def test_written_files_are_readable_like_ordinary_new_files(tmp_path):
    import os
    import stat

    from pipelines.store import write_parquet

    path = write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_the_store_names_its_files_and_writes_every_kind_through_one_writer(tmp_path, monkeypatch):
    import xarray as xr

    import pipelines.store as store_module
    from pipelines.store import APPROVALS, INDICATORS, Store

    store = Store(tmp_path / "processed")
    assert store.table(APPROVALS) is None  # not written yet
    with pytest.raises(FileNotFoundError, match="indicators.nc: not written yet"):
        store.dataset(INDICATORS)
    assert store.attributes(INDICATORS) == {}

    written = []
    one_writer = store_module.write_atomically
    monkeypatch.setattr(store_module, "write_atomically",
                        lambda path, write: written.append(Path(path).name) or one_writer(path, write))
    store.append(APPROVALS, {"date": "2026-07-01", "approved": True})
    store.append(APPROVALS, {"date": "2026-07-02", "approved": False})
    store.write_dataset(xr.Dataset({"x": ("t", [1.0, 2.0])}, attrs={"stale_meteo": 0}), INDICATORS)
    store.write_text('{"source": "meteo"}', "qc/meteo-1.json")
    assert written == [APPROVALS, APPROVALS, INDICATORS, "meteo-1.json"]
    assert store.table(APPROVALS)["approved"].tolist() == [True, False]
    assert store.attributes(INDICATORS) == {"stale_meteo": 0}
    assert float(store.dataset(INDICATORS)["x"].sum()) == 3.0
    assert sorted(p.name for p in store.folder.rglob("*")) == [APPROVALS, INDICATORS, "meteo-1.json", "qc"]
