"""What a daily run leaves in the Prefect UI for the analyst: a summary, a table and a link.

Every daily run publishes three artifacts (Prefect keeps each key's history, so the UI shows
the latest one and every earlier run's):

- ``<setup>-run-summary`` (Markdown): the approval, the restrictions that changed, the
  escalation level per water board and nationally, how fresh each data source is, and the
  quality-control counts of the ingest;
- ``<setup>-restrictions`` (table): the restriction in force per district on the run's day;
- ``<setup>-published-map`` (link): the citizen map (``index.html`` of the published site).

The text is built by pure functions (``run_summary_markdown``, ``restriction_rows``) so it can
be read and tested without Prefect; ``publish_run_artifacts`` hands it to Prefect.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from models.wording import LEVEL_NAMES
from pipelines.store import INDICATORS, Store

SOURCES = ("meteo", "groundwater", "sensors")

# Columns of the restrictions table, in this order (docs/contracts.md section 6).
RESTRICTION_COLUMNS = ("district_id", "name", "water_board", "restriction", "groundwater_ban",
                       "valid_from", "reason_en")
# The table's headers in words: the analyst reads the table in the Prefect UI.
RESTRICTION_HEADERS = {"district_id": "district", "name": "name", "water_board": "water board",
                       "restriction": "restriction", "groundwater_ban": "groundwater irrigation ban",
                       "valid_from": "valid from", "reason_en": "reason"}


def artifact_key(setup_name: str, what: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) for ``what`` of a setup."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{setup_name}-{what}".lower()).strip("-")
    return slug or what


_SCOPES = {"water_board": "water board", "national": "national"}


def restriction_words(state: str) -> str:
    """A restriction state in words for the analyst: ``"surface_water_ban + groundwater_ban"``
    → ``"Surface-water withdrawal ban + groundwater irrigation ban"`` (codes it does not know
    are kept as they are, so nothing is hidden)."""
    from dashboards.restriction_styles import BY_CODE, GROUNDWATER_LABEL_EN

    words = []
    for part in str(state).split(" + "):
        part = part.strip()
        if part == "groundwater_ban":
            words.append(GROUNDWATER_LABEL_EN.lower() if words else GROUNDWATER_LABEL_EN)
        elif part in BY_CODE:
            words.append(BY_CODE[part].label_en)
        else:
            words.append(part)
    return " + ".join(words)


def _text(value) -> str:
    """A value as plain text: "" for missing, dates as YYYY-MM-DD."""
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _cell(value) -> str:
    """A value as a Markdown table cell: no line breaks, ``|`` escaped."""
    return _text(value).replace("\n", " ").replace("|", "\\|")


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _newest_day(newest: str | None) -> dt.date | None:
    """The calendar day of a report's newest input (naive or UTC timestamp text)."""
    if not newest:
        return None
    stamp = pd.Timestamp(newest)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.date()


def freshness_rows(day: dt.date, ingest_reports: dict, stale: dict[str, bool] | None = None) -> list[list]:
    """Per source: newest input, its age in days on ``day``, and a status word."""
    rows = []
    for source in SOURCES:
        report = ingest_reports.get(source)
        if report is None:
            rows.append([source, "", "", "not configured"])
            continue
        if isinstance(report, str):  # ingest_all reports a failed flow as "FAILED: ..."
            rows.append([source, "", "", report])
            continue
        newest = _newest_day(report.newest)
        age = "" if newest is None else (day - newest).days
        if newest is None:
            status = "no data"
        elif (stale or {}).get(source):
            status = "stale"
        elif report.failed_files:
            status = f"{len(report.failed_files)} file(s) failed"
        else:
            status = "ok"
        rows.append([source, "" if newest is None else newest.isoformat(), age, status])
    return rows


def qc_rows(ingest_reports: dict) -> list[list]:
    """Per source: files read and failed, rows stored, records quarantined, values flagged."""
    rows = []
    for source in SOURCES:
        report = ingest_reports.get(source)
        if report is None or isinstance(report, str):
            continue
        checks = {k: v for k, v in report.qc.items() if k not in ("values", "passed")}
        flagged = ", ".join(f"{k} {v}" for k, v in checks.items() if v) or "none"
        rows.append([source, report.files, len(report.failed_files),
                     f"+{report.added} / {report.updated} / {report.unchanged}", report.quarantined,
                     report.qc.get("values", 0), report.qc.get("passed", 0), flagged])
    return rows


def run_summary_markdown(setup_name: str, day: dt.date, proposal, ingest_reports: dict, approval,
                         *, stale: dict[str, bool] | None = None, outcome=None) -> str:
    """The Markdown summary of one daily run (see the module docstring). ``proposal`` and
    ``approval`` are None when the run stopped before deciding (refused, withheld, failed);
    ``outcome`` (``pipelines.outcome.Outcome``) adds the exit code and the problems."""
    lines = [f"# Daily run {setup_name}, {day.isoformat()}", ""]
    if outcome is not None:
        lines += outcome.markdown() + [""]
    if approval is None or proposal is None:
        lines += ["Nothing was decided or published by this run: the published site stays as it was.", ""]
        lines += ["## Data freshness", "", f"Age in days on {day.isoformat()} (UT days).", ""]
        lines += _table(["source", "newest input", "age (days)", "status"],
                        freshness_rows(day, ingest_reports, stale))
        return "\n".join(lines) + "\n"
    verdict = "approved" if approval.approved else "NOT approved: the published site stays as it was"
    lines += [f"Publication {verdict} ({approval.mode}, by {_cell(approval.by)}, {approval.at}): "
              f"{_cell(approval.note)}", ""]
    if proposal.computed_until is not None and proposal.computed_until != day:
        lines += [f"Decisions computed with data up to {proposal.computed_until.isoformat()} and carried "
                  f"unchanged to {day.isoformat()} (late data, see Problems).", ""]
    lines += unknown_lines(getattr(proposal, "decisions", None))
    lines += ["## Restrictions that changed", ""]
    if proposal.changes:
        lines += _table(["district", "name", "water board", "was", "becomes"],
                        [[c["district_id"], c["name"], c["water_board"], restriction_words(c["was"]),
                          restriction_words(c["becomes"])] for c in proposal.changes])
    else:
        lines.append("None: the proposed restrictions equal the published ones.")
    lines += ["", "## Escalation levels", "",
              ", ".join(f"{k} {en}" for k, (_, en) in LEVEL_NAMES.items()) + ".", ""]
    escalation = proposal.escalation
    if escalation is not None and len(escalation):
        lines += _table(["scope", "water board", "level", "meaning", "reason"],
                        [[_SCOPES.get(r.get("scope", ""), r.get("scope", "")), r["water_board"], r["level"],
                          r.get("level_name_en", ""), r.get("reason_en", "")] for r in escalation.to_dict("records")])
    else:
        lines.append("Not computed.")
    lines += ["", "## Data freshness", "", f"Age in days on {day.isoformat()} (UT days).", ""]
    lines += _table(["source", "newest input", "age (days)", "status"], freshness_rows(day, ingest_reports, stale))
    lines += ["", "QC flags: range (value outside its plausible range), spike (sudden jump), flatline (value "
              "stuck), gap (missing days)."]
    lines += ["", "## Quality control of this run's ingest", ""]
    lines += _table(["source", "files", "failed files", "rows added / updated / unchanged", "quarantined",
                     "values", "passed", "flagged by test"], qc_rows(ingest_reports))
    return "\n".join(lines) + "\n"


def unknown_lines(decisions: pd.DataFrame | None) -> list[str]:
    """The summary's section on districts whose state is unknown because the measurements it
    rests on are missing (models/restrictions/missing_input.py); empty when there are none."""
    if decisions is None or not len(decisions):
        return []
    surface = decisions.loc[decisions["restriction"] == "unknown", "district_id"].astype(str).tolist()
    ground = (decisions.loc[decisions["groundwater_ban_unknown"].astype(bool), "district_id"].astype(str).tolist()
              if "groundwater_ban_unknown" in decisions else [])
    if not surface and not ground:
        return []
    lines = ["## Unknown: measurements missing", "",
             "A source without any data feeds these decisions and no earlier decision exists, so the "
             "published state is unknown (\"onbekend\"), not \"no restriction\".", ""]
    for what, ids in (("surface-water restriction", surface), ("groundwater ban", ground)):
        if ids:
            lines.append(f"- {what}: {len(ids)} district(s): {', '.join(ids[:20])}{' …' if len(ids) > 20 else ''}")
    return lines + [""]


def restriction_rows(decisions: pd.DataFrame) -> list[dict]:
    """The restrictions in force, one JSON-ready dict per district (``RESTRICTION_COLUMNS``,
    keyed by their headers in words, ``RESTRICTION_HEADERS``), restrictions named in words."""
    rows = []
    for record in decisions.to_dict("records"):
        row = {}
        for column in RESTRICTION_COLUMNS:
            value = record.get(column)
            header = RESTRICTION_HEADERS[column]
            if column == "groundwater_ban":
                row[header] = ("unknown" if bool(record.get("groundwater_ban_unknown", False))
                               else "yes" if bool(value) else "no")
            elif column == "restriction":
                row[header] = restriction_words(_text(value))
            else:
                row[header] = _text(value)
        rows.append(row)
    return rows


def _stale_flags(store: Store) -> dict[str, bool]:
    """``stale_<source>`` attributes of ``indicators.nc`` (models/indicators/freshness.py), when it exists."""
    attrs = store.attributes(INDICATORS)
    return {k.removeprefix("stale_"): bool(int(v)) for k, v in attrs.items() if k.startswith("stale_")}


def page_notices(outcome, day: dt.date, newest: dict | None = None) -> list[dict]:
    """What the published page tells its readers about the data, in Dutch and English: one
    notice per source with a problem (failed, late or stale), naming the source and, where
    known (``newest``: ``{source: date}`` of the late-data rule), the last day it covers."""
    from models.wording import format_date, source_name

    notices = []
    for source in dict.fromkeys(p.source for p in outcome.problems):
        if source == "decisions":  # the districts published as unknown say so on their own cards
            continue
        last = (newest or {}).get(source)
        nl, en = source_name(source, lang="nl"), source_name(source, lang="en")
        if any(p.source == source and p.message.startswith("no data held at all") for p in outcome.problems):
            notices.append({
                "nl": f"Er zijn geen gegevens over {nl} ({source}). Besluiten die hierop steunen blijven zoals ze "
                      "waren. Waar nog geen besluit was, staat op de kaart 'Onbekend'.",
                "en": f"There are no data on {en} ({source}). Decisions that rest on them stay as they were. "
                      "Where there was no decision yet, the map says 'Unknown'.",
            })
        elif last is not None and last < day:
            notices.append({
                "nl": f"De gegevens over {nl} ({source}) lopen tot en met {format_date(last, lang='nl')}. De "
                      f"beperkingen zijn bepaald met die gegevens en gelden ongewijzigd op {format_date(day, lang='nl')}.",
                "en": f"The data on {en} ({source}) run up to {format_date(last, lang='en')}. The restrictions "
                      f"were decided on those data and apply unchanged on {format_date(day, lang='en')}.",
            })
        else:
            notices.append({
                "nl": f"De gegevens over {nl} ({source}) zijn niet volledig of niet actueel op "
                      f"{format_date(day, lang='nl')}: de beperkingen zijn bepaald met de nieuwste gegevens die er wel zijn.",
                "en": f"The data on {en} ({source}) are incomplete or out of date on {format_date(day, lang='en')}: "
                      "the restrictions were decided on the newest data available.",
            })
    return notices


def publish_run_artifacts(config, day: dt.date, proposal, ingest_reports: dict, approval, *,
                          outcome=None) -> dict[str, str]:
    """Create the run's summary, restrictions table and map link in Prefect; returns the keys.

    Call it inside the daily flow, after publication (or after the refusal to publish). With
    no ``proposal`` (a run that stopped before deciding) only the summary is created.
    """
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    keys = {"summary": artifact_key(config.name, "run-summary"),
            "restrictions": artifact_key(config.name, "restrictions"),
            "map": artifact_key(config.name, "published-map")}
    stale = _stale_flags(Store(config.processed_dir))
    create_markdown_artifact(
        run_summary_markdown(config.name, day, proposal, ingest_reports, approval, stale=stale, outcome=outcome),
        key=keys["summary"], description=f"Daily run of {config.name} for {day.isoformat()}"
        + ("" if outcome is None else f": {outcome.state_name}"))
    if proposal is None or approval is None:
        return {"summary": keys["summary"]}
    create_table_artifact(restriction_rows(proposal.decisions), key=keys["restrictions"],
                          description=f"Restrictions in force on {day.isoformat()} (proposed; "
                          f"{'published' if approval.approved else 'not published'})")
    # the live name, not the version folder it points at now: the link stays right tomorrow
    index = Path(config.site_dir).absolute() / "index.html"
    create_link_artifact(index.as_uri(), link_text=f"Restriction map of {config.name}",
                         key=keys["map"],
                         description="The published citizen map" + (
                             "" if approval.approved else " (unchanged: this run was not approved)"))
    return keys
