"""Publishing the site atomically: readers see the old site or the new one, never a mix.

Layout beside ``site_dir`` (say ``dashboards/site``)::

    site                          -> site.20260714T060000123456Z   (a symbolic link)
    site.20260714T060000123456Z/  the live version
    site.20260713T060000654321Z/  earlier versions, the newest few kept

A new version is built in ``site.<stamp>.building/``, its files flushed to disk, renamed to
``site.<stamp>/``, and then a new symbolic link is swapped over ``site`` with
``os.replace`` (one rename(2), atomic on POSIX). A failure or crash at any point before that
rename leaves ``site`` pointing at the previous, whole version: the crash window is zero. A web
server serving ``site`` follows the link on every request.

An existing ``site_dir`` that is not such a link (a plain folder, perhaps the setup's own, or
``.``) is refused before anything is built: publishing never moves or replaces a folder it did
not make.

One publisher at a time: building, switching and pruning happen under a file lock beside the
site (``.site.lock``, an ``fcntl`` lock through the ``filelock`` library, so it needs no
server and is released by the kernel when a publisher dies, even by SIGKILL). A second
publisher waits for it (``lock_timeout_s``), then refuses with :class:`PublicationBusy`.
Because every build happens under the lock, a ``*.building`` folder found by the lock's holder
is a leftover of a crashed publisher and is removed; another publisher's build in progress is
never touched.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
from filelock import FileLock
from filelock import Timeout as LockTimeout

from dashboards.assets import copy_assets
from dashboards.changes import change_history, read_issue
from dashboards.citizen_map import render_citizen_page
from dashboards.feed import feed_file_name, render_feed
from dashboards.issue_cache import IssueCache
from dashboards.open_data import write_open_data
from dashboards.public_record import checked_metadata, public_districts

KEEP_VERSIONS = 3
#: How long a publisher waits for another one of the same site to finish, in seconds.
LOCK_TIMEOUT_S = 600.0


class PublicationBusy(RuntimeError):
    """Another publisher holds the site's lock and did not finish within the wait."""


def publication_lock(site_dir: Path) -> FileLock:
    """The lock that one publisher of ``site_dir`` holds at a time (a file beside the site)."""
    site_dir = Path(site_dir)
    return FileLock(site_dir.with_name(f".{site_dir.name}.lock"))
_PAGE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.html")


def publish_site(districts: gpd.GeoDataFrame, metadata: dict, site_dir: Path, *,
                 tiles: dict | None = None, extra_pages: dict | None = None,
                 keep: int = KEEP_VERSIONS, citizen: dict | None = None,
                 lock_timeout_s: float = LOCK_TIMEOUT_S) -> Path:
    """Build the whole site and switch ``site_dir`` to it in one step; return the new version.

    ``districts``: GeoDataFrame in EPSG:28992 with the columns of
    ``public_record.PUBLIC_COLUMNS`` (other columns are ignored and never published).
    ``metadata``: ``issued_at`` (tz-aware datetime), ``valid_from`` (date), ``data_ages``
    ({source: tz-aware datetime of its newest input}), ``software_version``, ``setup_name``.
    ``tiles``: optional background tiles ``{"url", "attribution"}`` (off: no third party).
    ``extra_pages``: further rendered pages ``{"dashboard.html": html text or bytes}``.
    ``keep``: how many versions to keep on disk, the live one included.
    ``citizen``: what the citizen page needs beyond the decisions, all optional:
    ``boards`` (``{id: {"name", "announcement_url", "contact_url"}}``), ``orientation``
    (``{"municipalities": gdf, "provinces": gdf}`` in EPSG:28992), ``groundwater`` (the
    groundwater ban's texts), ``next_update`` (date), ``site_url`` (the site's public address,
    which makes the feeds' links absolute).

    The citizen page shows what changed since the issue now live, and the Atom feeds
    (``feed.atom``, ``feed-en.atom``, ``feeds/<water board>.atom``) list the changes over the
    archived issues (see ``dashboards/changes.py`` and ``dashboards/feed.py``).
    ``lock_timeout_s``: how long to wait (s) for another publisher of the same site; then
    :class:`PublicationBusy` is raised and the site stays as the other publisher leaves it.

    Returns the path of the new version folder, which ``site_dir`` now links to. The issue's
    open data is also archived in ``archive/<valid_from>/<issued_at UTC stamp>/``
    (:func:`archive_name`); the archive of earlier issues is carried over from the previous
    version, and nothing in it is ever overwritten.
    """
    public = public_districts(districts)
    meta = checked_metadata(metadata)
    pages = _checked_pages(extra_pages or {})
    site_dir = Path(site_dir)
    _refuse_foreign(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = publication_lock(site_dir)
    try:
        lock.acquire(timeout=lock_timeout_s)
    except LockTimeout:
        raise PublicationBusy(
            f"{site_dir}: another publication of this site is in progress (lock {lock.lock_file} held "
            f"for more than {lock_timeout_s:g} s); nothing was published. Run again once it has finished."
        ) from None
    try:
        # The stamp is taken under the lock: the version published last is the newest.
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        version = site_dir.with_name(f"{site_dir.name}.{stamp}")
        building = site_dir.with_name(f"{version.name}.building")
        building.mkdir()
        try:
            _build(building, public, meta, previous=site_dir, tiles=tiles, pages=pages, citizen=citizen or {})
            _flush_tree(building)
            os.rename(building, version)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        switch_site(site_dir, version)
        prune_versions(site_dir, keep=keep)
    finally:
        lock.release()
    return version


def switch_site(site_dir: Path, version: Path) -> None:
    """Point ``site_dir`` at ``version`` (a sibling folder) by atomically replacing a symlink."""
    link = site_dir.with_name(f".{version.name}.link")
    if link.is_symlink():
        link.unlink()
    os.symlink(version.name, link)  # relative, so the pair can move together
    try:
        _refuse_foreign(site_dir)
    except FileExistsError:
        link.unlink()
        raise
    os.replace(link, site_dir)
    _fsync_dir(site_dir.parent)


def _refuse_foreign(site_dir: Path) -> None:
    """Raise ``FileExistsError`` when ``site_dir`` exists and is not a link (a site of ours)."""
    if site_dir.exists() and not site_dir.is_symlink():
        raise FileExistsError(f"{site_dir}: exists and is not a published site (a link to a version "
                              "folder beside it); publishing never moves or replaces a folder it did "
                              "not make: choose a site folder that does not exist yet")


def prune_versions(site_dir: Path, *, keep: int = KEEP_VERSIONS) -> None:
    """Remove all but the newest ``keep`` versions beside ``site_dir`` (never the live one), and
    leftovers of crashed builds. Call it only while holding :func:`publication_lock`: a
    ``*.building`` folder is then never another publisher's build in progress."""
    live = site_dir.resolve().name if site_dir.is_symlink() else None
    pattern = re.compile(re.escape(site_dir.name) + r"\.\d{8}T\d{12}Z")
    versions = sorted(p for p in site_dir.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir())
    for old in versions[: max(len(versions) - keep, 0)]:
        if old.name != live:
            shutil.rmtree(old)
    for leftover in site_dir.parent.glob(f"{site_dir.name}.*.building"):
        shutil.rmtree(leftover, ignore_errors=True)


def _build(folder: Path, public, meta: dict, *, previous: Path, tiles, pages: dict[str, object],
           citizen: dict) -> None:
    copy_assets(folder)
    cache = IssueCache.beside(previous)
    last = read_issue(previous, cache=cache)
    boards = citizen.get("boards") or {}
    feeds = write_feeds(folder, change_history(previous / "archive", public, meta["issued_at"], cache=cache),
                        public, meta, boards=boards, site_url=citizen.get("site_url"))
    cache.prune()
    (folder / "index.html").write_text(
        render_citizen_page(public, meta, tiles=tiles, extra_links=tuple(pages), boards=boards,
                            orientation=citizen.get("orientation"), previous=last,
                            previous_issued_at=None if last is None or last.empty else last["issued_at"].iloc[0],
                            groundwater=citizen.get("groundwater"), next_update=citizen.get("next_update"),
                            feeds=feeds),
        encoding="utf-8")
    write_open_data(public, meta, folder)
    _carry_archive(previous / "archive", folder / "archive")
    issue = folder / archive_name(meta)
    repeat = 1
    while issue.exists():  # the same issue time published twice: kept beside it, never overwritten
        repeat += 1
        issue = folder / f"{archive_name(meta)}-{repeat}"
    write_open_data(public, meta, issue)
    for name, body in pages.items():
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            raise TypeError(f"extra_pages[{name!r}] must be HTML text or bytes; got {type(body).__name__}")
        (folder / name).write_bytes(body)


def archive_name(meta: dict) -> str:
    """Where an issue is archived inside a site version: ``archive/<valid_from>/<issued_at>``,
    the validity date (YYYY-MM-DD) and the issue time in UTC (``YYYYMMDDTHHMMSSffffffZ``), so
    a back-dated issue, a correction and a second issue of a day each get a folder of their own."""
    issued = meta["issued_at"].astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"archive/{meta['valid_from'].isoformat()}/{issued}"


def write_feeds(folder: Path, history: list, public, meta: dict, *, boards: dict,
                site_url: str | None) -> list[dict]:
    """Write the Atom feeds of ``history`` (all changes, newest first) into ``folder``; return
    the links for the page (``href``, ``label_nl``, ``label_en``)."""
    base = (site_url.rstrip("/") + "/") if site_url else ""
    names = {b: str((boards.get(b) or {}).get("name") or "") for b in sorted(set(public["water_board"]))}
    links = []
    targets = [(None, "feed.atom", "feed-en.atom")]
    targets += [(b, feed_file_name(n, "nl"), feed_file_name(n, "en")) for b, n in names.items() if n]
    for board, name_nl, name_en in targets:
        changes = [c for c in history if board is None or c.water_board == board]
        for lang, name in (("nl", name_nl), ("en", name_en)):
            depth = "../" * name.count("/")
            body = render_feed(changes, setup=meta["setup_name"], lang=lang, issued_at=meta["issued_at"],
                               board_names=names, board=board,
                               page_url=(base + "index.html") if base else depth + "index.html",
                               self_url=(base + name) if base else name.rsplit("/", 1)[-1])
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        label = names.get(board, "") if board else ""
        links.append({"href": name_nl, "board": board is not None,
                      "label_nl": f"Wijzigingen {label}" if board else "Alle wijzigingen (Atom-feed)",
                      "label_en": f"Changes {label}" if board else "All changes (Atom feed)"})
        links.append({"href": name_en, "board": board is not None, "label_nl": (f"Wijzigingen {label}" if board else "Alle wijzigingen")
                      + " (Engels)", "label_en": (f"Changes {label}" if board else "All changes") + " (English)"})
    return links


def _checked_pages(pages: dict) -> dict:
    for name in pages:
        if not isinstance(name, str) or not _PAGE_NAME.fullmatch(name) or name == "index.html":
            raise ValueError(f"extra_pages key {name!r} must be a plain file name like 'dashboard.html' "
                             "(lower-case letters, digits, '-', '_'; not index.html)")
    return dict(pages)


def _carry_archive(old: Path, new: Path) -> None:
    """Carry earlier issues over by hard links (published files are never changed in place)."""
    if not old.is_dir():
        return

    def link_or_copy(source, target):
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    shutil.copytree(old, new, copy_function=link_or_copy)


def _flush_tree(folder: Path) -> None:
    """Flush every file and folder to disk, so the switch never points at unwritten data."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if os.stat(path).st_nlink > 1:
                # an issue carried into the archive by a hard link: the same inode as in the live
                # version, flushed when it was first published (a season holds hundreds of them)
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
