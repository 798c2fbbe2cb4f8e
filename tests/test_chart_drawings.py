"""A chart drawn again from the same data reuses its drawing (dashboards/charts.py), with ids
of its own; any change in what it is drawn from draws it anew."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from dashboards.charts import CATEGORY_STYLE, levels_chart, shortage_chart

CATEGORIES = {c: (c, c) for c in CATEGORY_STYLE}


def _share(seed: int = 1) -> pd.DataFrame:
    days = pd.date_range("2025-04-01", "2025-08-15", freq="D")
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"2a": rng.uniform(0, 40, len(days)), "3": rng.uniform(0, 90, len(days))}, index=days)


def _history() -> pd.DataFrame:
    days = pd.date_range("2025-04-01", "2025-08-15", freq="D")
    rows = [{"date": d, "water_board": b, "level": int(k > 60) + int(k > 100 and b == "W1")}
            for k, d in enumerate(days) for b in ("W1", "W2", "NL")]
    return pd.DataFrame(rows)


def _ids(svg: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', svg))


def _without_prefix(svg: str) -> str:
    return re.sub(r"\bc\d+-", "c-", svg)


def test_the_same_data_gives_the_same_drawing_with_ids_of_its_own():
    first = shortage_chart(_share(), scope_nl="waterschap Oost", scope_en="water board Oost", categories=CATEGORIES)
    again = shortage_chart(_share(), scope_nl="Oost", scope_en="Oost", categories=CATEGORIES)
    for lang in ("nl", "en"):
        assert _without_prefix(str(first.svg[lang])) == _without_prefix(str(again.svg[lang]))
        # both may stand on one page: no id of one is an id of the other
        assert _ids(first.svg[lang]) and not _ids(first.svg[lang]) & _ids(again.svg[lang])
    assert first.svg["nl"] != first.svg["en"] and "categorie" in first.svg["nl"] and "category" in first.svg["en"]
    # the words are the caller's, not the drawing's
    assert "waterschap Oost" in first.alt["nl"] and "waterschap" not in again.alt["nl"]


def test_a_changed_value_or_label_draws_anew():
    share = _share()
    base = shortage_chart(share, scope_nl="x", scope_en="x", categories=CATEGORIES)
    changed = share.copy()
    changed.iloc[50, 1] = 99.0
    other = shortage_chart(changed, scope_nl="x", scope_en="x", categories=CATEGORIES)
    assert _without_prefix(str(base.svg["en"])) != _without_prefix(str(other.svg["en"]))

    history = _history()
    named = levels_chart(history, names={"W1": "Waterschap Een"})
    renamed = levels_chart(history, names={"W1": "Waterschap Twee"})
    assert "Waterschap Een" in named.svg["nl"] and "Waterschap Twee" in renamed.svg["nl"]
    later = history.assign(level=history["level"].where(history["date"] < "2025-08-01", 3))
    assert _without_prefix(str(levels_chart(later).svg["nl"])) != _without_prefix(str(levels_chart(history).svg["nl"]))
