"""The weekly drought bulletin: a page per week, setup and language, its situation in
sentences made from the data, and when the daily run writes it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd
import pytest

from dashboards.bulletin import bulletin_name, render_bulletin, situation
from tests.synthetic import synthetic_briefing, synthetic_dashboard_inputs, synthetic_districts

HOSTILE = "<img src=x onerror=alert(1)>"
DAY = dt.date(2026, 7, 14)  # a Tuesday, ISO week 29


def _inputs(n=12):
    districts = synthetic_districts(n, seed=4)
    districts["water_board"] = ["WBA"] * (n // 2) + ["WBB"] * (n - n // 2)
    districts["restriction"] = ["surface_water_ban"] * 3 + ["none"] * (n - 3)
    districts["valid_from"] = [DAY - dt.timedelta(days=2)] * 2 + [DAY - dt.timedelta(days=20)] * (n - 2)
    briefing = synthetic_briefing(districts, board_charts=False)
    briefing.pop("board_deficit_charts")
    briefing["outlook_summary"] = briefing["outlook_summary"][:1].assign(p_end=[0.25])
    shortage = synthetic_dashboard_inputs(districts)["board_shortage"].assign(demand_m3_day=1e5)
    escalation = pd.DataFrame([
        {"scope": "water_board", "water_board": "WBA", "level": 2, "level_name_nl": "feitelijk watertekort",
         "level_name_en": "actual water shortage", "reason_nl": "verbod in 50% van het oppervlak",
         "reason_en": "ban over 50% of the area"},
        {"scope": "water_board", "water_board": "WBB", "level": 0, "level_name_nl": "normale situatie",
         "level_name_en": "normal situation", "reason_nl": "geen aanleiding", "reason_en": "no cause"},
        {"scope": "national", "water_board": "NL", "level": 1, "level_name_nl": "dreigend watertekort",
         "level_name_en": "threatening water shortage", "reason_nl": "een waterschap op niveau 2",
         "reason_en": "a water board at level 2"}])
    history = pd.DataFrame([{"date": pd.Timestamp(DAY) - pd.Timedelta(days=k), "water_board": b, "level": lvl}
                            for k in range(10) for b, lvl in (("WBA", 2 if k < 4 else 1), ("WBB", 0),
                                                              ("NL", 1 if k < 4 else 0))])
    briefing["level_history"] = history
    briefing["outlook_summary"]["water_board"] = "WBA"
    reasons = [dataclasses.replace(briefing["reasons"][0], water_board="WBA")]
    briefing["reasons"] = reasons
    return dict(setup_name="demo", day=DAY, issued_at=dt.datetime(2026, 7, 14, 6, tzinfo=dt.UTC),
                software_version="0.1.0", escalation=escalation,
                restrictions=pd.DataFrame(districts.drop(columns="geometry")), board_shortage=shortage,
                board_names={"WBA": "Waterschap A", "WBB": HOSTILE}, **briefing)


def test_situation_in_sentences_from_the_data():
    inputs = _inputs()
    keys = ("day", "escalation", "level_history", "restrictions", "reasons", "outlook_summary")
    args = {k: inputs[k] for k in keys} | {"deficit": inputs["deficit_chart"], "river": inputs["river_chart"],
                                          "names": inputs["board_names"]}
    nl, en = situation("nl", **args), situation("en", **args)
    assert nl[0] == "Landelijk geldt niveau 1 (dreigend watertekort) sinds 11 juli 2026."
    assert en[0] == "Nationally, level 1 (threatening water shortage) applies since 11 July 2026."
    assert "Waterschap A 2" in nl[1]
    deficit = inputs["deficit_chart"].facts
    assert any(s.startswith(f"The precipitation deficit is {deficit['deficit_mm']:.0f} mm") for s in en)
    assert any(s.startswith("Rhine discharge at Lobith: ") and s.endswith(
        "below 1\u202f200 m³/s (national coordination acts).") for s in en)
    assert "3 of 12 districts have a restriction, 3 a surface-water ban; 2 of them started or tightened in the " \
           "past week." in en
    assert any("Tekort in de hoogste categorieën: Waterschap A 1b 12 %." == s for s in nl)
    assert any("still short in 6 weeks: Waterschap A 25 %" in s for s in en)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_page_per_language_that_stands_alone(lang):
    inputs = _inputs()
    other = "en" if lang == "nl" else "nl"
    page = render_bulletin(lang, other_language_href=bulletin_name("demo", DAY, other), **inputs)
    assert f'<html lang="{lang}">' in page
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)  # stands alone
    assert "<style>" in page and "@media print" in page  # print-ready as it is
    assert f'href="bulletin-demo-2026-W29-{other}.html"' in page
    assert ("Droogtebericht demo – week 29, 2026" if lang == "nl" else "Drought bulletin demo – week 29, 2026") in page
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) >= 3 + 2  # levels, deficit, river, and the shortage per water board
    words = {"nl": ("neerslagtekort (mm)", "niveau"), "en": ("precipitation deficit (mm)", "level")}
    assert all(w in " ".join(svgs) for w in words[lang])
    assert not any(w in " ".join(svgs) for w in words[other][:1])
    assert page.count("<table") >= 3 + len(svgs)  # escalation, restrictions, outlook, and one per chart
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_name_and_weekday(tmp_path):
    from pipelines.briefing import bulletin_due

    assert bulletin_name("Rijn & IJssel", dt.date(2026, 1, 1), "nl") == "bulletin-Rijn---IJssel-2026-W01-nl.html"

    @dataclasses.dataclass
    class Setup:
        bulletin_weekday: str | None

    assert bulletin_due(Setup("tuesday"), DAY) and not bulletin_due(Setup("friday"), DAY)
    assert not bulletin_due(Setup(None), DAY)


def test_bulletin_weekday_is_checked_with_its_key(tmp_path):
    from pipelines.config import ConfigError, load_config
    from pipelines.demo import write_demo

    config = write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed", site_dir=tmp_path / "site",
                        archive_dir=tmp_path / "archive")
    assert load_config(config).bulletin_weekday == "friday"  # the demo's day, 15 August 2025
    config.write_text(config.read_text().replace("bulletin_weekday: friday", "bulletin_weekday: vrijdag"))
    with pytest.raises(ConfigError, match="publication.bulletin_weekday"):
        load_config(config)
    config.write_text(config.read_text().replace("bulletin_weekday: vrijdag", "bulletin_weekday: never"))
    assert load_config(config).bulletin_weekday is None


def test_a_bulletin_needs_the_run_of_its_day(tmp_path):
    from pipelines.briefing import write_bulletin
    from pipelines.config import load_config
    from pipelines.demo import write_demo

    config = load_config(write_demo(tmp_path / "raw", processed_dir=tmp_path / "processed",
                                    site_dir=tmp_path / "site", archive_dir=tmp_path / "archive"))
    with pytest.raises(FileNotFoundError, match=r"run `droogte run --config .* --date 2025-08-15` first"):
        write_bulletin(config, dt.date(2025, 8, 15))
