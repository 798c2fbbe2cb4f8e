"""Atom feeds (RFC 4287) of restriction changes, published beside the citizen page.

News sites, apps and other governments follow changes through these instead of scraping the
page. One feed for the whole setup and one per water board, each in Dutch and in English:

    feed.atom, feed-en.atom                      every district of the setup
    feeds/<water-board-name>.atom, …-en.atom     the districts of one water board

Entry ids are ``urn:uuid:`` values derived (UUID 5) from the setup, the district, the day the
new state applies from and the state itself: the same change keeps its id in every later
issue, so a reader never sees it twice. Built with ``feedgen`` (escaping and the Atom
structure are its job, not ours).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence

from feedgen.feed import FeedGenerator

from dashboards.changes import Change
from dashboards.restriction_styles import BY_CODE, GROUNDWATER_LABEL_EN, GROUNDWATER_LABEL_NL
from models.wording import format_date

MAX_ENTRIES = 200
_NAMESPACE = uuid.UUID("5b0f3a64-1d0e-5c1a-9e59-0d7c2e7a4f10")  # droogte's own, fixed forever

_TEXT = {
    "nl": {"title": "Waterbeperkingen: wijzigingen", "board_title": "Waterbeperkingen {board}: wijzigingen",
           "subtitle": "Wijzigingen in de beperkingen voor het gebruik van water, per gebied.",
           "was": "was", "since": "Geldt vanaf {day}.", "board": "Waterschap: {board}.",
           "stricter": "strenger", "lighter": "lichter", "changed": "gewijzigd", "and": "en"},
    "en": {"title": "Water restrictions: changes", "board_title": "Water restrictions {board}: changes",
           "subtitle": "Changes in the restrictions on water use, per district.",
           "was": "was", "since": "Applies from {day}.", "board": "Water board: {board}.",
           "stricter": "stricter", "lighter": "lighter", "changed": "changed", "and": "and"},
}


def entry_id(setup: str, change: Change) -> str:
    """The stable id of a change: the same district, day and state give the same id."""
    key = "|".join((setup, change.district_id, change.valid_from.isoformat(), change.restriction,
                    "groundwater" if change.groundwater_ban else "-"))
    return uuid.uuid5(_NAMESPACE, key).urn


def feed_file_name(board_name: str, lang: str) -> str:
    """``feeds/waterschap-demo-oost.atom`` (``-en`` before the suffix in English)."""
    ascii_name = unicodedata.normalize("NFKD", board_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "waterschap"
    return f"feeds/{slug}{'-en' if lang == 'en' else ''}.atom"


def state_label(restriction: str, groundwater_ban: bool, lang: str) -> str:
    """The name of a state, e.g. ``Sproeiverbod overdag en beregeningsverbod grondwater``."""
    style = BY_CODE[restriction]
    label = style.label_nl if lang == "nl" else style.label_en
    if not groundwater_ban:
        return label
    ground = GROUNDWATER_LABEL_NL if lang == "nl" else GROUNDWATER_LABEL_EN
    if restriction == "none":
        return ground
    return f"{label} {_TEXT[lang]['and']} {ground[0].lower()}{ground[1:]}"


def render_feed(changes: Sequence[Change], *, setup: str, lang: str, issued_at: dt.datetime,
                board_names: Mapping[str, str], page_url: str, self_url: str,
                board: str | None = None) -> bytes:
    """Return one Atom feed (UTF-8 bytes) of ``changes``, newest first, at most ``MAX_ENTRIES``.

    ``setup`` only seeds the ids (never shown); ``board_names`` maps water-board ids to their
    names; ``page_url`` and ``self_url`` are the citizen page and this feed (absolute when the
    configuration names the site's address, else relative to the feed). ``board``: the water
    board this feed is for (``None``: the whole setup). ``issued_at`` is the feed's
    ``updated`` time.
    """
    text = _TEXT[lang]
    fg = FeedGenerator()
    feed_key = f"{setup}|{board or '*'}|{lang}"
    fg.id(uuid.uuid5(_NAMESPACE, feed_key).urn)
    board_name = board_names.get(board, "") if board else ""
    fg.title(text["board_title"].format(board=board_name) if board else text["title"])
    fg.subtitle(text["subtitle"])
    fg.author({"name": board_name or ("Waterschappen" if lang == "nl" else "Water boards")})
    fg.link(href=page_url, rel="alternate", type="text/html", hreflang=lang)
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.language(lang)
    fg.updated(issued_at)
    for change in list(changes)[:MAX_ENTRIES]:
        day = format_date(change.valid_from, lang=lang)
        now = state_label(change.restriction, change.groundwater_ban, lang)
        was = state_label(change.was_restriction, change.was_groundwater_ban, lang)
        entry = fg.add_entry(order="append")
        entry.id(entry_id(setup, change))
        entry.title(f"{change.name}: {now} ({text[change.direction]}; {text['was']}: {was[0].lower()}{was[1:]})")
        entry.updated(change.issued_at)
        entry.published(change.issued_at)
        entry.link(href=page_url, rel="alternate", type="text/html")
        summary = [text["since"].format(day=day)]
        name = board_names.get(change.water_board)
        if name:
            summary.append(text["board"].format(board=name))
        entry.summary(" ".join(summary))
    return fg.atom_str(pretty=True)
