"""Raw archive: content-addressed, unchanged bytes, an index of every retrieval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.ingest.archive import archive_file, read_index, sha256_of


def test_same_bytes_stored_once_and_every_retrieval_indexed(tmp_path: Path) -> None:
    first = tmp_path / "in" / "etmgeg_260.zip"
    first.parent.mkdir()
    first.write_bytes(b"KNMI daily data\r\n")
    again = tmp_path / "in" / "etmgeg_260 (1).zip"
    again.write_bytes(first.read_bytes())
    raw = tmp_path / "raw"
    cet = timezone(timedelta(hours=1))

    one = archive_file(first, raw, source="knmi-daily", retrieved_at=datetime(2026, 6, 26, 9, 0, tzinfo=cet))
    two = archive_file(again, raw, source="knmi-daily")

    assert one.sha256 == two.sha256 == sha256_of(first)
    assert not one.already_stored and two.already_stored
    stored = [p for p in raw.rglob("*") if p.is_file() and p.name != "index.jsonl"]
    assert len(stored) == 1 and stored[0].read_bytes() == first.read_bytes()
    assert stored[0].name.endswith(".zip")
    index = read_index(raw)
    assert [r["original_name"] for r in index] == ["etmgeg_260.zip", "etmgeg_260 (1).zip"]
    assert index[0]["retrieved_at"] == datetime(2026, 6, 26, 8, 0, tzinfo=timezone.utc)
    assert index[0]["stored_path"] == one.stored_path and (raw / one.stored_path).exists()


def test_different_bytes_stored_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_text("<a/>")
    b.write_text("<b/>")
    raw = tmp_path / "raw"
    assert archive_file(a, raw, source="fews").stored_path != archive_file(b, raw, source="fews").stored_path
    assert len(read_index(raw)) == 2


def test_naive_time_and_odd_source_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("x")
    with pytest.raises(ValueError, match="time zone"):
        archive_file(src, tmp_path / "raw", source="knmi", retrieved_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="plain folder name"):
        archive_file(src, tmp_path / "raw", source="../elsewhere")
