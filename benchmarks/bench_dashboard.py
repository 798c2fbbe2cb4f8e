"""Size and render time of the policymaker dashboard and the weekly bulletin.

Two sizes: the demo's (64 districts on 2 water boards) and a national-scale setup (10,000
districts on 21 water boards), both synthetic (``tests/synthetic.py``): square districts
sharing borders, a season of 1 April - 14 July, a deficit chart per water board, the river
chart, the escalation levels over the season, an outlook layer per category. Charts are
drawn (matplotlib) as part of the render, as the publish stage does. Prints bytes raw and
gzip-compressed and seconds per page.

    .venv/bin/python benchmarks/bench_dashboard.py [--districts 64 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test fixtures live in tests/

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboards.bulletin import render_bulletin  # noqa: E402
from dashboards.policy_dashboard import render_policy_dashboard  # noqa: E402
from dashboards.public_record import checked_metadata, public_districts  # noqa: E402
from tests.synthetic import (synthetic_briefing, synthetic_dashboard_inputs, synthetic_districts,  # noqa: E402
                             synthetic_metadata)


def sizes(page: str) -> tuple[float, float]:
    raw = page.encode("utf-8")
    return len(raw) / 1e6, len(gzip.compress(raw, compresslevel=6)) / 1e6


def run(n: int) -> None:
    districts = synthetic_districts(n, seed=1, cell_m=1_500.0)
    if n <= 100:  # the demo's shape: two water boards
        districts["water_board"] = ["WBW"] * (n // 2) + ["WBO"] * (n - n // 2)
    public, metadata = public_districts(districts), checked_metadata(synthetic_metadata())
    inputs = synthetic_dashboard_inputs(public)
    indicators = inputs["indicators"].drop(columns="shortage_probability")
    for k, category in enumerate(("1a", "1b", "1c", "2a", "2b", "3", "4")):
        indicators[f"shortage_probability_{category}"] = (indicators["precipitation_deficit_mm"] / 300) ** (k + 1)
    indicators["still_short_probability_4"] = indicators["shortage_probability_4"] / 2
    indicators["change"] = np.resize([0, 1, 0, -1], n)
    inputs["indicators"] = indicators
    days = pd.date_range("2026-04-01", "2026-07-14", freq="D")
    boards = sorted(set(public["water_board"]))
    inputs["board_shortage"] = pd.DataFrame(
        [{"date": d, "water_board": b, "category": c, "shortage_m3_day": 1e4 * (k % 7), "demand_m3_day": 1e5}
         for k, d in enumerate(days) for b in boards for c in ("1b", "2a", "3", "4")])
    start = time.perf_counter()
    briefing = synthetic_briefing(public)
    charts = time.perf_counter() - start
    start = time.perf_counter()
    dashboard = render_policy_dashboard(public, metadata, **inputs, **briefing)
    seconds = time.perf_counter() - start
    raw, packed = sizes(dashboard)
    print(f"{n:>6} districts, {len(boards)} boards: charts of the briefing drawn in {charts:.1f} s")
    print(f"{'':>6} dashboard.html {raw:.3f} MB raw, {packed:.3f} MB gzip; rendered in {seconds:.1f} s "
          "(its own shortage and level charts included)")
    escalation = pd.DataFrame([{"scope": "water_board", "water_board": b, "level": 1, "level_name_nl": "dreigend",
                                "level_name_en": "threatening", "reason_nl": "", "reason_en": ""} for b in boards]
                              + [{"scope": "national", "water_board": "NL", "level": 1, "level_name_nl": "dreigend",
                                  "level_name_en": "threatening", "reason_nl": "", "reason_en": ""}])
    for lang in ("nl", "en"):
        start = time.perf_counter()
        page = render_bulletin(lang, setup_name="bench", day=dt.date(2026, 7, 14), issued_at=metadata["issued_at"],
                               software_version="bench", escalation=escalation,
                               restrictions=pd.DataFrame(public.drop(columns="geometry")),
                               board_shortage=inputs["board_shortage"],
                               **{k: v for k, v in briefing.items() if k != "board_deficit_charts"})
        seconds = time.perf_counter() - start
        raw, packed = sizes(page)
        print(f"{'':>6} bulletin ({lang}) {raw:.3f} MB raw, {packed:.3f} MB gzip; rendered in {seconds:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, nargs="+", default=[64, 10_000])
    for n in parser.parse_args().districts:
        run(n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
