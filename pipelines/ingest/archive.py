"""The raw archive: every file exactly as its publisher delivered it, kept for good.

Files are stored content-addressed: the name is the SHA-256 of the bytes
(``<raw_root>/<source>/<sha[:2]>/<sha>`` plus the original suffix), so the same bytes
fetched twice are stored once, and any processed value can be traced back to the exact file
it came from. ``<raw_root>/index.jsonl`` records one JSON line per retrieval: ``sha256``,
``source``, ``original_name``, ``retrieved_at`` (ISO-8601 UTC), ``stored_path`` (relative
to ``raw_root``) and ``size_bytes``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipelines.store import write_atomically

INDEX_NAME = "index.jsonl"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveEntry:
    """One retrieval of one file. ``stored_path`` is relative to the archive root;
    ``already_stored`` is True when the same bytes were archived before."""

    sha256: str
    source: str
    original_name: str
    retrieved_at: datetime
    stored_path: str
    size_bytes: int
    already_stored: bool


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def archive_file(
    src: Path, raw_root: Path, *, source: str, retrieved_at: datetime | None = None
) -> ArchiveEntry:
    """Keep ``src`` unchanged in the archive under ``raw_root`` and record it in the index.

    ``source`` names the publisher or feed (e.g. ``"knmi-daily"``); it must be a plain folder
    name. ``retrieved_at`` defaults to now; a naive datetime is refused, since "when" without
    a time zone cannot be compared across the feeds. The copy goes to a temporary file in the
    target folder first and is moved into place in one step, so a crash never leaves half a
    file under a content address.
    """
    src, raw_root = Path(src), Path(raw_root)
    if not source or Path(source).name != source or source in {".", ".."}:
        raise ValueError(f"source must be a plain folder name, got {source!r}")
    retrieved_at = retrieved_at or datetime.now(timezone.utc)
    if retrieved_at.tzinfo is None:
        raise ValueError("retrieved_at must carry a time zone (e.g. timezone.utc)")
    retrieved_at = retrieved_at.astimezone(timezone.utc)

    sha = sha256_of(src)
    relative = Path(source) / sha[:2] / (sha + "".join(src.suffixes[-2:]))
    target = raw_root / relative
    already = target.exists() and sha256_of(target) == sha
    if not already:
        write_atomically(target, lambda temporary: shutil.copyfile(src, temporary))
    entry = ArchiveEntry(sha, source, src.name, retrieved_at, relative.as_posix(),
                         target.stat().st_size, already)
    record = {k: v for k, v in asdict(entry).items() if k != "already_stored"}
    record["retrieved_at"] = retrieved_at.isoformat()
    raw_root.mkdir(parents=True, exist_ok=True)
    with (raw_root / INDEX_NAME).open("a", encoding="utf-8") as index:
        index.write(json.dumps(record) + "\n")
    return entry


def read_index(raw_root: Path) -> list[dict]:
    """All index records, oldest first (``retrieved_at`` as an aware UTC datetime)."""
    path = Path(raw_root) / INDEX_NAME
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record["retrieved_at"] = datetime.fromisoformat(record["retrieved_at"])
            records.append(record)
    return records
