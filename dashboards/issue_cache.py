"""The district states of published issues, kept beside the site so each is parsed once.

Every daily publication compares the new issue with the archived ones
(``dashboards.changes.change_history``). An archived ``restrictions.csv`` holds a row of Dutch
and English text per district; parsing it again every morning for every issue of the season
cost about 0.23 s an issue for 10,000 districts. The cache keeps the seven state columns of
each issue as a small Parquet file (about 3 ms to read at that size).

A cache file is named after the ``restrictions.csv`` it was read from: its device, inode,
size and modification time. Published files are never changed in place and the archive is
carried from version to version by hard links, so a carried issue keeps its entry; a file
written again, or copied elsewhere, gets a new one. The cache is only ever a shortcut: a file
that cannot be read or written is read from the CSV again, and nothing is published from it.

It lives in a hidden folder beside the site versions (``.site.issues`` for ``site``), is
written only by the publisher that holds the site's lock, and keeps only the entries the last
publication used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)


class IssueCache:
    """The state columns of issues read before, in ``folder`` (created on first write)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._used: set[str] = set()

    @classmethod
    def beside(cls, site_dir: Path) -> IssueCache:
        """The cache of the site published at ``site_dir``."""
        site_dir = Path(site_dir)
        return cls(site_dir.with_name(f".{site_dir.name}.issues"))

    def read(self, csv_path: Path) -> dict[str, list[str]] | None:
        """The cached columns of ``csv_path`` (name: values as text), or ``None`` when they are
        not (readably) cached."""
        entry = self._entry(csv_path)
        if entry is None:
            return None
        self._used.add(entry.name)
        try:
            return pq.read_table(entry).to_pydict()
        except FileNotFoundError:
            return None
        except (OSError, ValueError, pa.ArrowException) as error:
            log.info("%s: cache entry unreadable (%s); reading %s again", entry, error, csv_path)
            return None

    def write(self, csv_path: Path, columns: dict[str, list[str]]) -> None:
        """Keep ``columns`` (as read from ``csv_path``) for the next read; a failure is logged."""
        entry = self._entry(csv_path)
        if entry is None:
            return
        self._used.add(entry.name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # written beside and renamed: a crash never leaves half an entry under its name
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    pq.write_table(pa.table(columns), out)
                os.replace(temporary, entry)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except (OSError, ValueError, pa.ArrowException) as error:
            log.info("%s: not cached (%s)", csv_path, error)

    def prune(self) -> None:
        """Remove the entries (and leftovers of crashed writes) that were not used since this
        cache object was made: issues that fell out of the window of compared issues."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.name not in self._used:
                path.unlink(missing_ok=True)

    def _entry(self, csv_path: Path) -> Path | None:
        try:
            st = os.stat(csv_path)
        except OSError:
            return None
        key = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.parquet"
