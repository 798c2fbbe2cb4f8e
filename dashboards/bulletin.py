"""The weekly drought bulletin, in the manner of the national droogtemonitor.

One HTML page per week, setup and language: the situation in a few sentences made from the
data, the escalation per water board, the restrictions in force and what changed this week,
today's shortages and what limits them, the outlook, and the charts of the season (each with
its table). The page stands alone: its style is inline, it runs no script and loads nothing,
so it can be archived, mailed, and printed as it is (a print style keeps charts and tables
whole on paper; "print to PDF" in any browser gives the PDF).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from dashboards.charts import Chart, fmt, levels_chart, shortage_chart
from dashboards.citizen_map import TEMPLATE_ENVIRONMENT
from dashboards.policy_dashboard import CATEGORIES, ESCALATION
from dashboards.public_record import local_time
from models.wording import format_date, format_moment
from dashboards.restriction_styles import GROUNDWATER_LABEL_EN, GROUNDWATER_LABEL_NL, RESTRICTIONS

_CSS = Path(__file__).parent / "templates" / "bulletin.css"


def bulletin_name(setup: str, day: dt.date, lang: str) -> str:
    """``bulletin-<setup>-<ISO year>-W<week>-<lang>.html``: one page per week, setup and language."""
    year, week, _ = day.isocalendar()
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in setup)
    return f"bulletin-{safe}-{year}-W{week:02d}-{lang}.html"


def situation(lang: str, *, day: dt.date, escalation: pd.DataFrame, level_history: pd.DataFrame | None,
              restrictions: pd.DataFrame, deficit: Chart | None, river: Chart | None,
              outlook_summary: pd.DataFrame | None, reasons: list, names: Mapping[str, str]) -> list[str]:
    """The situation in a few sentences, made from the data (``lang`` "nl" or "en")."""
    nl = lang == "nl"
    out = []
    national = escalation[escalation["scope"] == "national"]
    if len(national):
        level = int(national["level"].iloc[0])
        since = _level_since(level_history, "NL", level)
        name = ESCALATION.get(level, ("", ""))[0 if nl else 1]
        since_text = ""
        if since is not None:
            since_text = f" sinds {format_date(since, lang='nl')}" if nl else f" since {format_date(since, lang='en')}"
        out.append(f"Landelijk geldt niveau {level} ({name}){since_text}." if nl
                   else f"Nationally, level {level} ({name}) applies{since_text}.")
    boards = escalation[escalation["scope"] != "national"]
    if len(boards):
        parts = [f"{names.get(r.water_board, r.water_board)} {int(r.level)}" for r in boards.itertuples()]
        out.append(("Per waterschap: " if nl else "Per water board: ") + ", ".join(parts) + ".")
    if deficit is not None:
        f = deficit.facts
        d, med, dry = f["deficit_mm"], f["median_mm"], f["driest_5pct_mm"]
        where = ((" Dat is meer dan in de 5 % droogste jaren." if nl else " That is more than in the 5 % driest years.")
                 if d > dry else "")
        years = [(k[5:9], v) for k, v in f.items() if k.startswith("year_") and pd.notna(v)]
        compare = ""
        if years:
            compare = (" Op dezelfde dag in " if nl else " On the same day in ") + ", ".join(
                f"{y}: {fmt(v, 0, lang)} mm" for y, v in years) + "."
        out.append((f"Het neerslagtekort is {fmt(d, 0, lang)} mm; normaal is {fmt(med, 0, lang)} mm." if nl
                    else f"The precipitation deficit is {fmt(d, 0, lang)} mm; normal is {fmt(med, 0, lang)} mm.")
                   + where + compare)
    if river is not None:
        f = river.facts
        below = [t for t in f["thresholds"] if f["now"] < t.value]
        title = f["title_nl"] if nl else f["title_en"]
        text = f"{title}: {fmt(f['now'], 0, lang)} {f['unit']}"
        if below:
            t = below[-1]
            text += (f", onder {fmt(t.value, 0, lang)} {f['unit']} ({t.label_nl})" if nl
                     else f", below {fmt(t.value, 0, lang)} {f['unit']} ({t.label_en})")
        out.append(text + ".")
    if len(restrictions):
        restricted = restrictions[~restrictions["restriction"].isin(["none", "unknown"])]
        banned = int((restrictions["restriction"] == "surface_water_ban").sum())
        week_ago = pd.Timestamp(day) - pd.Timedelta(days=6)
        new = restricted[pd.to_datetime(restricted["valid_from"]) >= week_ago]
        out.append((f"In {len(restricted)} van {len(restrictions)} gebieden geldt een beperking, in {banned} een "
                    f"onttrekkingsverbod; {len(new)} daarvan begonnen of werden strenger in de afgelopen week.") if nl
                   else (f"{len(restricted)} of {len(restrictions)} districts have a restriction, {banned} a "
                         f"surface-water ban; {len(new)} of them started or tightened in the past week."))
    priority = [r for r in reasons if r.category[0] in "12"]
    if priority:
        out.append(("Tekort in de hoogste categorieën: " if nl else "Shortage in the highest categories: ")
                   + "; ".join(f"{names.get(r.water_board, r.water_board)} {r.category} "
                               f"{fmt(100 * r.share, 0, lang)} %" for r in priority) + ".")
    elif reasons:
        out.append("Categorie 1 en 2 (veiligheid, drinkwater, energie) krijgen hun water." if nl
                   else "Categories 1 and 2 (safety, drinking water, energy) get their water.")
    if outlook_summary is not None and len(outlook_summary):
        four = outlook_summary[outlook_summary["category"] == "4"]
        if len(four):
            weeks = int(round(int(four["horizon_days"].iloc[0]) / 7))
            out.append((f"De kans dat landbouw en andere gebruikers (categorie 4) over {weeks} weken nog tekort "
                        "hebben: " if nl else
                        f"The chance that agriculture and other users (category 4) are still short in {weeks} "
                        "weeks: ") + ", ".join(f"{names.get(r.water_board, r.water_board)} "
                                               f"{fmt(100 * r.p_end, 0, lang)} %" for r in four.itertuples()) + ".")
    return out


def _level_since(history: pd.DataFrame | None, board: str, level: int) -> dt.date | None:
    """The first day of the current run of ``level`` for ``board`` in the level history."""
    if history is None or history.empty:
        return None
    own = history[history["water_board"] == board].sort_values("date")
    if own.empty:
        return None
    since = None
    for d, v in zip(pd.to_datetime(own["date"]), own["level"]):
        if int(v) == level:
            since = since or d
        else:
            since = None
    return since.date() if since is not None else None


def render_bulletin(lang: str, *, setup_name: str, day: dt.date, issued_at: dt.datetime, software_version: str,
                    escalation: pd.DataFrame, restrictions: pd.DataFrame, board_shortage: pd.DataFrame,
                    deficit_chart: Chart | None = None, river_chart: Chart | None = None,
                    level_history: pd.DataFrame | None = None, reasons: list | None = None,
                    outlook_summary: pd.DataFrame | None = None, board_names: Mapping[str, str] | None = None,
                    other_language_href: str = "") -> str:
    """Return the bulletin page of the week of ``day`` in ``lang`` ("nl" or "en").

    ``escalation``: the escalation table of the day (contracts section 6); ``restrictions``:
    the decisions in force per district (``district_id``, ``water_board``, ``restriction``,
    ``groundwater_ban``, ``valid_from``); ``board_shortage`` as for the dashboard (with
    ``demand_m3_day``); charts, level history, reasons and outlook as for
    :func:`dashboards.policy_dashboard.render_policy_dashboard`.
    """
    if lang not in ("nl", "en"):
        raise ValueError(f"lang: expected 'nl' or 'en', got {lang!r}")
    nl = lang == "nl"
    names = {str(k): str(v) for k, v in (board_names or {}).items()}
    reasons = reasons or []
    year, week, _ = day.isocalendar()
    boards = sorted(set(restrictions["water_board"].astype(str)) | set(board_shortage["water_board"].astype(str)))
    # the unknown state (measurements missing) gets a column only when some district has it
    shown = [st for st in RESTRICTIONS if st.level >= 0 or (restrictions["restriction"] == st.code).any()]
    counts = []
    for board in boards:
        own = restrictions[restrictions["water_board"].astype(str) == board]
        counts.append({"board": names.get(board, board), "total": len(own),
                       "cells": [int((own["restriction"] == st.code).sum()) for st in shown],
                       "groundwater": int(own["groundwater_ban"].astype(bool).sum())})
    levels = [{"board": "landelijk" if nl and r["scope"] == "national" else "national" if r["scope"] == "national"
               else names.get(r["water_board"], r["water_board"]), "level": int(r["level"]),
               "name": r.get("level_name_nl" if nl else "level_name_en", ""),
               "reason": r.get("reason_nl" if nl else "reason_en", "")}
              for r in escalation.to_dict("records")]
    shortage = board_shortage.assign(date=pd.to_datetime(board_shortage["date"]).dt.normalize(),
                                     category=board_shortage["category"].astype(str),
                                     water_board=board_shortage["water_board"].astype(str))
    charts = []
    if level_history is not None and len(level_history):
        charts.append(("Escalatieniveau dit seizoen" if nl else "Escalation level this season",
                       levels_chart(level_history, names=names)))
    if deficit_chart is not None:
        charts.append(("Neerslagtekort tegen het klimaat" if nl else "Precipitation deficit against climate",
                       deficit_chart))
    if river_chart is not None:
        charts.append((river_chart.facts["title_nl" if nl else "title_en"], river_chart))
    if "demand_m3_day" in shortage.columns:
        for board in boards:
            own = shortage[shortage["water_board"] == board]
            if own.empty:
                continue
            short = own.pivot_table(index="date", columns="category", values="shortage_m3_day", aggfunc="sum")
            demand = own.pivot_table(index="date", columns="category", values="demand_m3_day", aggfunc="sum")
            cols = [c for c in CATEGORIES if c in demand.columns and demand[c].max() > 0]
            share = 100 * short[cols] / demand[cols].where(demand[cols] > 0)
            name = names.get(board, board)
            charts.append(((f"Tekort per categorie, {name}" if nl else f"Shortage per category, {name}"),
                           shortage_chart(share.sort_index(), scope_nl=name, scope_en=name, categories=CATEGORIES)))
    issued = local_time(issued_at)
    template = TEMPLATE_ENVIRONMENT.get_template("bulletin.html.j2")
    return template.render(
        lang=lang, nl=nl, setup_name=setup_name, year=year, week=week,
        day_text=format_date(day, lang="nl") if nl else format_date(day, lang="en"),
        issued_text=format_moment(issued, lang=lang),
        software_version=software_version, css=Markup(_CSS.read_text(encoding="utf-8")),
        situation=situation(lang, day=day, escalation=escalation, level_history=level_history,
                            restrictions=restrictions, deficit=deficit_chart, river=river_chart,
                            outlook_summary=outlook_summary, reasons=reasons, names=names),
        levels=levels,
        restriction_names=[st.label_nl if nl else st.label_en for st in shown],
        groundwater_name=GROUNDWATER_LABEL_NL if nl else GROUNDWATER_LABEL_EN,
        counts=counts,
        reasons=[{"board": names.get(r.water_board, r.water_board), "text": r.text_nl if nl else r.text_en,
                  "priority": r.category[0] in "12"} for r in reasons],
        outlook=None if outlook_summary is None else [
            {"board": names.get(r.water_board, r.water_board), "category": r.category,
             "today": fmt(100 * r.short_today, 0, lang), "any": fmt(100 * r.p_any, 0, lang),
             "end": fmt(100 * r.p_end, 0, lang)}
            for r in outlook_summary.itertuples() if r.p_any > 0 or r.short_today > 0],
        weeks=(int(round(int(outlook_summary["horizon_days"].iloc[0]) / 7))
               if outlook_summary is not None and len(outlook_summary) else 6),
        charts=[{"title": title, "svg": chart.svg[lang], "alt": chart.alt[lang], "table": chart.table, "id": f"chart-{k}"}
                for k, (title, chart) in enumerate(charts, start=1)],
        other_language_href=other_language_href,
    )

