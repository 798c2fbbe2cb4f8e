"""The charts of the dashboard and the weekly bulletin, drawn one way: matplotlib, as inline SVG.

Every chart is drawn once per language (Dutch and English; the page shows the one of its
language) with its text as real SVG text, so it is sharp at any size, can be searched and
its size measured in a browser. Each comes with its words (``alt``) and the table that is
its text alternative (:class:`ChartTable`), so nothing is only in a picture.

Legibility on a phone: a chart is ``WIDTH_PT`` wide in SVG units and the page draws it at
most at its content width; on a 390 px phone that is about 358 px, a scale of about 0.96, so
text of ``FONT_SIZE`` units (12) shows at about 11.5 px. The test in ``tests/test_browser.py``
measures it.

Drought quantities (levels of escalation, shortage shares) use sequential light-to-dark red
palettes (ColorBrewer "Reds", colour-blind safe) whose classes are far enough apart to tell;
categories of the verdringingsreeks are nominal and keep distinct Okabe-Ito colours with a
dash pattern each.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # draw without a display, also on servers and in tests

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from markupsafe import Markup  # noqa: E402

from dashboards import chart_worker  # noqa: E402

from models.wording import month_abbreviation  # noqa: E402

LANGUAGES = ("nl", "en")
WIDTH_PT = 372  # SVG width in user units (pt): about a phone's content width (see module docstring)
FONT_SIZE = 12  # user units; ≥ 11 px on a 390 px phone
#: Escalation levels 0–3, light to dark red (ColorBrewer Reds 4 + a near-white for "normal").
LEVEL_COLOURS = ("#fff5f0", "#fcbba1", "#fb6a4a", "#a50f15")
#: Six classes of a drought quantity, light to dark red (ColorBrewer Reds 6).
REDS_6 = ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15")
#: Five classes, light to dark red (ColorBrewer Reds 5).
REDS_5 = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
#: One colour and one dash pattern per category of the verdringingsreeks (Okabe-Ito; the
#: dashes keep the lines apart where colours are not seen).
CATEGORY_STYLE: dict[str, tuple[str, tuple]] = {
    "1a": ("#000000", (None, None)), "1b": ("#8c5a00", (0, (6, 2))), "1c": ("#009e73", (0, (2, 2))),
    "2a": ("#0072b2", (None, None)), "2b": ("#56b4e9", (0, (6, 2, 2, 2))), "3": ("#d55e00", (0, (4, 2))),
    "4": ("#cc79a7", (None, None)),
}

_STYLE = {
    "font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 1, "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE, "ytick.labelsize": FONT_SIZE, "legend.fontsize": FONT_SIZE,
    "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "text.parse_math": False,  # names from data ("$…$") stay text, never mathematics
    "svg.fonttype": "none",  # real <text>, in the page's font: searchable, measurable, small
    "svg.hashsalt": "droogte",  # the same chart gives the same bytes (ids are re-made below)
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#595959",
    "axes.labelcolor": "#1a1a1a", "xtick.color": "#1a1a1a", "ytick.color": "#1a1a1a",
    "text.color": "#1a1a1a",
}
_ids = itertools.count(1)


@dataclass(frozen=True)
class ChartTable:
    """The numbers behind a chart as a table: the chart's text alternative.

    ``header``: one ``(nl, en)`` pair per column; ``rows``: one row of cells per line, each
    cell a ``(nl, en)`` pair (numbers are the same in both, dates and words are not).
    """

    caption_nl: str
    caption_en: str
    header: list[tuple[str, str]]
    rows: list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Chart:
    """A chart in both languages: the SVG of each, what it shows in words, and its table."""

    svg: Mapping[str, Markup]  # by language; drawn by the chart worker, read waits for it
    alt: dict[str, str]
    table: ChartTable
    facts: dict = field(default_factory=dict)  # the figures the page's words quote (units in the keys)

    @property
    def bytes(self) -> int:
        return sum(len(s.encode()) for s in self.svg.values())


def day_label(day, lang: str) -> str:
    """``15 aug`` / ``15 Aug``: a day in the short form a chart's table uses."""
    day = pd.Timestamp(day)
    return f"{day.day} {month_abbreviation(day.month, lang=lang)}"


def fmt(value, decimals: int = 0, lang: str = "nl") -> str:
    """A number for a reader: thin-space thousands, decimal comma in Dutch; "–" when missing."""
    if value is None or pd.isna(value):
        return "–"
    text = f"{value:,.{decimals}f}".replace(",", "\u202f")
    return text.replace(".", ",") if lang == "nl" else text


def _drawn_svg(figure) -> str:
    """matplotlib's SVG of ``figure`` without the XML prologue and the metadata."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _unique_ids(text: str, prefix: str | None = None) -> Markup:
    """``text`` (from :func:`_drawn_svg`) as an inline chart: scalable (viewBox, no fixed size),
    hidden from assistive technology (the page labels it and gives its table), and with ids of
    its own on the page (``prefix``, else the next of this process; matplotlib's clip-path ids
    would collide between charts)."""
    prefix = prefix or f"c{next(_ids)}-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{prefix}{m.group(1)}"', text)
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"',
                  r'<svg\1 class="chart-svg" aria-hidden="true" focusable="false"', text, count=1)
    return Markup(text.strip())


def _figure(height_pt: float):
    with plt.rc_context(_STYLE):
        return plt.figure(figsize=(WIDTH_PT / 72, height_pt / 72), dpi=72)


def _month_axis(axes, lang: str) -> None:
    axes.xaxis.set_major_locator(mdates.MonthLocator())
    axes.xaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda x, _: month_abbreviation(mdates.num2date(x).month, lang=lang)))


#: Drawings already made in this process, by what they were drawn from (:func:`_draw`'s
#: ``data``): the dashboard and the bulletin (Dutch and English) show the same levels chart and
#: the same shortage chart per water board, and matplotlib's SVG rendering is most of the time
#: of writing the pages (about 75 ms a drawing). The oldest are dropped beyond ``_DRAWN_MAX``.
_drawn: dict[str, dict[str, str]] = {}
_DRAWN_MAX = 64


def drawing_key(kind: str, *data) -> str:
    """A key for :func:`_draw` that changes with every value, label and option ``data`` holds
    (frames and series by their index, columns and values; anything else by its ``repr``)."""
    digest = hashlib.sha256(kind.encode())
    for item in data:
        if isinstance(item, (pd.DataFrame, pd.Series)):
            labels = (list(item.columns), list(item.dtypes)) if isinstance(item, pd.DataFrame) else (item.name, item.dtype)
            digest.update(repr((type(item).__name__, item.shape, labels)).encode())
            digest.update(pd.util.hash_pandas_object(item, index=True).to_numpy().tobytes())
        else:
            digest.update(repr(item).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _draw(height_pt: float, draw, data: str | None = None) -> Mapping[str, Markup]:
    """Call ``draw(figure, lang)`` for each language and return the SVGs. With ``data`` (a
    :func:`drawing_key` of everything ``draw`` draws from), a drawing made before from the
    same data is reused, with ids of its own. With a chart worker running
    (``dashboards/chart_worker.py``) the worker draws it and the SVGs are waited for where they
    are first read."""
    key = None if data is None else f"{height_pt}:{data}"
    drawn = _drawn.get(key) if key is not None else None
    if drawn is None:
        future = chart_worker.submit(height_pt, draw)
        drawn = drawn_in_every_language(height_pt, draw) if future is None else _Drawing(future, height_pt, draw)
        if key is not None:
            while len(_drawn) >= _DRAWN_MAX:
                _drawn.pop(next(iter(_drawn)))
            _drawn[key] = drawn
    prefixes = {lang: f"c{next(_ids)}-" for lang in LANGUAGES}  # in the order of the drawings asked for
    if isinstance(drawn, _Drawing):
        return _DrawnSvgs(drawn, prefixes)
    return {lang: _unique_ids(text, prefixes[lang]) for lang, text in drawn.items()}


def drawn_in_every_language(height_pt: float, draw) -> dict[str, str]:
    """``draw(figure, lang)`` on a new figure of ``height_pt`` per language: ``{lang: svg}``."""
    drawn = {}
    for lang in LANGUAGES:
        with plt.rc_context(_STYLE):
            figure = plt.figure(figsize=(WIDTH_PT / 72, height_pt / 72), dpi=72)
            try:
                draw(figure, lang)
                drawn[lang] = _drawn_svg(figure)
            finally:
                plt.close(figure)
    return drawn


class _Drawing:
    """A drawing the chart worker makes: its ``{lang: svg}`` once it is done."""

    def __init__(self, future, height_pt: float, draw) -> None:
        self._future, self._height_pt, self._draw = future, height_pt, draw
        self._drawn: dict[str, str] | None = None

    def result(self) -> dict[str, str]:
        if self._drawn is None:
            try:
                if self._future.cancel():  # the worker has not started it: draw it here meanwhile
                    drawn = drawn_in_every_language(self._height_pt, self._draw)
                else:
                    try:
                        drawn = self._future.result()
                    except BrokenProcessPool:  # the worker died (not the drawing's own error): draw it here
                        drawn = drawn_in_every_language(self._height_pt, self._draw)
            except Exception as exc:
                # Not a LookupError: Jinja reads a chart's SVG by key and would take a KeyError
                # for a missing entry, leaving an empty chart instead of failing.
                raise RuntimeError(f"drawing a chart failed: {type(exc).__name__}: {exc}") from exc
            self._drawn, self._draw = drawn, None
        return self._drawn


class _DrawnSvgs(Mapping):
    """``{lang: Markup}`` of a drawing the chart worker makes, with ids of its own on the page;
    read, it waits for the drawing."""

    def __init__(self, drawing: _Drawing, prefixes: dict[str, str]) -> None:
        self._drawing, self._prefixes = drawing, prefixes
        self._svgs: dict[str, Markup] | None = None

    def _resolved(self) -> dict[str, Markup]:
        if self._svgs is None:
            self._svgs = {lang: _unique_ids(text, self._prefixes[lang]) for lang, text in self._drawing.result().items()}
        return self._svgs

    def __getitem__(self, lang: str) -> Markup:
        return self._resolved()[lang]

    def __iter__(self):
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __reduce__(self):
        return dict, (self._resolved(),)


# --- the precipitation deficit against climate ------------------------------------------------


def deficit_chart(current: pd.Series, climatology: pd.DataFrame, *, scope_nl: str, scope_en: str) -> Chart:
    """KNMI's precipitation-deficit chart: this season (mm, by day) against the median, the
    5 %-driest line and the dry years in ``climatology`` (the table of
    :func:`models.indicators.climatology.deficit_climatology`, index ``"MM-DD"``)."""
    current = current.dropna()
    if current.empty:
        raise ValueError("current: no deficit values to draw")
    year = int(current.index[-1].year)
    reference = str(climatology.attrs.get("reference_years", ""))
    days = pd.to_datetime([f"{year}-{d}" for d in climatology.index], errors="coerce")
    keep = ~days.isna()
    clim = climatology.loc[keep].set_axis(days[keep])
    years = [c for c in ("1976", "2018") if c in clim.columns]
    names = {"nl": {"median": "mediaan", "driest_5pct": "5 % droogste jaren", "ylabel": "neerslagtekort (mm)"},
             "en": {"median": "median", "driest_5pct": "5 % driest years", "ylabel": "precipitation deficit (mm)"}}
    year_colours = {"1976": "#7f2704", "2018": "#6a51a3"}

    def draw(figure, lang):
        axes = figure.add_axes((0.15, 0.34, 0.82, 0.6))
        if "driest_5pct" in clim and "median" in clim:
            axes.fill_between(clim.index, clim["median"], clim["driest_5pct"], color="#fcbba1", alpha=0.6, linewidth=0)
        if "median" in clim:
            axes.plot(clim.index, clim["median"], color="#595959", linestyle="--", linewidth=1.5,
                      label=names[lang]["median"])
        if "driest_5pct" in clim:
            axes.plot(clim.index, clim["driest_5pct"], color="#de2d26", linestyle=":", linewidth=2,
                      label=names[lang]["driest_5pct"])
        for y in years:
            axes.plot(clim.index, clim[y], color=year_colours[y], linewidth=1, label=y)
        axes.plot(current.index, current.to_numpy(), color="#000000", linewidth=2.5, label=str(year))
        axes.set_ylabel(names[lang]["ylabel"])
        axes.set_ylim(bottom=0)
        axes.set_xlim(pd.Timestamp(year, 4, 1), pd.Timestamp(year, 9, 30))
        _month_axis(axes, lang)
        axes.grid(alpha=0.3)
        figure.legend(loc="lower center", ncol=3, frameon=False, handlelength=1.8, columnspacing=1.0)

    at = current.index[-1]
    row = clim.reindex([at]).iloc[0] if len(clim) else pd.Series(dtype=float)
    value = float(current.iloc[-1])
    ref = f" ({reference})" if reference else ""
    compare_nl = "; ".join(f"{y}: {fmt(row.get(y), 0, 'nl')} mm" for y in years)
    compare_en = "; ".join(f"{y}: {fmt(row.get(y), 0, 'en')} mm" for y in years)
    alt = {
        "nl": (f"Neerslagtekort in {scope_nl}, {year}: op {day_label(at, 'nl')} {fmt(value, 0, 'nl')} mm, tegen "
               f"een mediaan van {fmt(row.get('median'), 0, 'nl')} mm en {fmt(row.get('driest_5pct'), 0, 'nl')} mm in "
               f"de 5 % droogste jaren{ref}" + (f"; {compare_nl}" if compare_nl else "") + "."),
        "en": (f"Precipitation deficit in {scope_en}, {year}: {fmt(value, 0, 'en')} mm on {day_label(at, 'en')}, "
               f"against a median of {fmt(row.get('median'), 0, 'en')} mm and {fmt(row.get('driest_5pct'), 0, 'en')} mm "
               f"in the 5 % driest years{ref}" + (f"; {compare_en}" if compare_en else "") + "."),
    }
    # The table: the first of each month and the last day, the season against the references.
    stops = [d for d in current.index if d.day == 1] + [at]
    stops = sorted(set(stops))
    header = [("dag", "day"), (str(year), str(year)), ("mediaan", "median"), ("5 % droogste", "5 % driest")]
    header += [(y, y) for y in years]
    rows = []
    for d in stops:
        ref_row = clim.reindex([d]).iloc[0] if len(clim) else pd.Series(dtype=float)
        cells = [(day_label(d, "nl"), day_label(d, "en")), _both(current.get(d)), _both(ref_row.get("median")),
                 _both(ref_row.get("driest_5pct"))]
        cells += [_both(ref_row.get(y)) for y in years]
        rows.append(cells)
    table = ChartTable(f"Neerslagtekort in {scope_nl} (mm) tegen het klimaat{ref}",
                       f"Precipitation deficit in {scope_en} (mm) against climate{ref}", header, rows)
    facts = {"day": at.date(), "deficit_mm": value, "median_mm": _float(row.get("median")),
             "driest_5pct_mm": _float(row.get("driest_5pct")), "reference_years": reference,
             **{f"year_{y}_mm": _float(row.get(y)) for y in years}}
    return Chart(svg=_draw(250, draw), alt=alt, table=table, facts=facts)


def _float(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _both(value, decimals: int = 0) -> tuple[str, str]:
    return fmt(value, decimals, "nl"), fmt(value, decimals, "en")


# --- shortage per category over the season ---------------------------------------------------


def shortage_chart(share: pd.DataFrame, *, scope_nl: str, scope_en: str, categories: dict[str, tuple[str, str]]
                   ) -> Chart:
    """Share of demand not met (%) per category of the verdringingsreeks, per day.

    ``share``: index days, one column per category (``"1a"`` … ``"4"``), values 0–100 (%),
    NaN where the category has no demand. Categories never short are left out of the drawing
    and named in the words.
    """
    short = [c for c in share.columns if share[c].max(skipna=True) > 0]
    first, last = share.index[0], share.index[-1]

    def draw(figure, lang):
        axes = figure.add_axes((0.15, 0.3, 0.82, 0.62))
        for c in short:
            colour, dash = CATEGORY_STYLE[c]
            axes.plot(share.index, share[c].to_numpy(), color=colour, linestyle=dash if dash[0] is not None else "-",
                      linewidth=2, label=("categorie " if lang == "nl" else "category ") + c)
        axes.set_ylim(0, 100)
        axes.set_xlim(first, last)
        axes.set_ylabel("% niet geleverd" if lang == "nl" else "% not supplied")
        _month_axis(axes, lang)
        axes.grid(alpha=0.3)
        if short:
            figure.legend(loc="lower center", ncol=4, frameon=False, handlelength=2.2, columnspacing=1.0)
        else:
            axes.text(0.5, 0.5, "geen tekort" if lang == "nl" else "no shortage", transform=axes.transAxes,
                      ha="center")

    if short:
        peaks = [(c, share[c].max(), share[c].idxmax()) for c in short]
        words = {lang: "; ".join(
            f"{'categorie' if lang == 'nl' else 'category'} {c}: "
            f"{'hoogst' if lang == 'nl' else 'highest'} {fmt(v, 0, lang)} % {'op' if lang == 'nl' else 'on'} "
            f"{day_label(d, lang)}, {'nu' if lang == 'nl' else 'now'} {fmt(share[c].iloc[-1], 0, lang)} %"
            for c, v, d in peaks) for lang in LANGUAGES}
    else:
        words = {"nl": "geen tekort in enige categorie", "en": "no shortage in any category"}
    alt = {"nl": f"Deel van de vraag dat niet geleverd werd per categorie, {scope_nl}, {day_label(first, 'nl')} tot "
                 f"en met {day_label(last, 'nl')}: {words['nl']}.",
           "en": f"Share of demand not supplied per category, {scope_en}, {day_label(first, 'en')} to "
                 f"{day_label(last, 'en')}: {words['en']}."}
    weekly = share.resample("7D", origin="start").mean()
    header = [("week vanaf", "week from")] + [(c, c) for c in share.columns]
    rows = [[(day_label(d, "nl"), day_label(d, "en"))] + [_both(v) for v in row]
            for d, row in zip(weekly.index, weekly.to_numpy())]
    table = ChartTable(f"Gemiddeld deel van de vraag dat niet geleverd werd (%), per week, {scope_nl}",
                       f"Mean share of demand not supplied (%), per week, {scope_en}", header, rows)
    drawing = drawing_key("shortage", share, sorted(categories.items()))
    return Chart(svg=_draw(240, draw, drawing), alt=alt, table=table)


# --- escalation levels over the season --------------------------------------------------------


def levels_chart(history: pd.DataFrame, *, names: dict[str, str] | None = None) -> Chart:
    """Escalation level (0–3) per water board and nationally over the season, one strip each.

    ``history``: ``date``, ``water_board``, ``level`` (the national row has water board
    ``"NL"``); ``names``: display name per water board (the id where absent).
    """
    names = names or {}
    history = history.assign(date=pd.to_datetime(history["date"]).dt.normalize())
    pivot = history.pivot_table(index="water_board", columns="date", values="level", aggfunc="max")
    order = [b for b in pivot.index if b != "NL"] + (["NL"] if "NL" in pivot.index else [])
    pivot = pivot.reindex(order)
    days = pivot.columns
    label = {b: (names.get(b, b) if b != "NL" else None) for b in order}
    rows_n = len(order)
    height = 70 + 22 * rows_n + 40
    cmap = matplotlib.colors.ListedColormap(LEVEL_COLOURS)

    longest = max((len(label[b] or "landelijk") for b in order), default=8)
    left = min(0.5, 0.04 + longest * 0.62 * FONT_SIZE / WIDTH_PT)  # room for the names (≈0.62 em a letter)

    def draw(figure, lang):
        top_pad = 10 / height
        bottom = 70 / height
        axes = figure.add_axes((left, bottom, 0.97 - left, 1 - bottom - top_pad))
        values = pivot.to_numpy(dtype=float)
        x = mdates.date2num(list(days) + [days[-1] + pd.Timedelta(days=1)])
        axes.pcolormesh(x, np.arange(rows_n + 1), np.ma.masked_invalid(values), cmap=cmap, vmin=-0.5, vmax=3.5,
                        edgecolors="none")
        axes.set_ylim(rows_n, 0)
        axes.set_yticks(np.arange(rows_n) + 0.5)
        axes.set_yticklabels([label[b] or ("landelijk" if lang == "nl" else "national") for b in order])
        axes.xaxis_date()
        _month_axis(axes, lang)
        for spine in ("left", "bottom"):
            axes.spines[spine].set_visible(False)
        axes.tick_params(length=0)
        handles = [matplotlib.patches.Patch(facecolor=c, edgecolor="#595959", label=str(k))
                   for k, c in enumerate(LEVEL_COLOURS)]
        figure.legend(handles=handles, loc="lower center", ncol=4, frameon=False,
                      title="niveau" if lang == "nl" else "level", title_fontsize=FONT_SIZE)

    # The table: per board, from which day each level held (the changes of level).
    header = [("", ""), ("veranderingen van niveau", "changes of level"), ("nu", "now")]
    rows = []
    for b in order:
        series = pivot.loc[b].dropna()
        changes_nl, changes_en = [], []
        previous = None
        for d, v in series.items():
            if v != previous:
                changes_nl.append(f"{int(v)} vanaf {day_label(d, 'nl')}")
                changes_en.append(f"{int(v)} from {day_label(d, 'en')}")
                previous = v
        now = "–" if series.empty else str(int(series.iloc[-1]))
        rows.append([(label[b] or "landelijk", label[b] or "national"),
                     ("; ".join(changes_nl) or "–", "; ".join(changes_en) or "–"), (now, now)])
    first, last = days[0], days[-1]
    alt = {"nl": f"Escalatieniveau per waterschap en landelijk van {day_label(first, 'nl')} tot en met "
                 f"{day_label(last, 'nl')}; de tabel noemt elke verandering.",
           "en": f"Escalation level per water board and nationally from {day_label(first, 'en')} to "
                 f"{day_label(last, 'en')}; the table names every change."}
    table = ChartTable("Escalatieniveau dit seizoen (0 normaal … 3 crisis)",
                       "Escalation level this season (0 normal … 3 crisis)", header, rows)
    return Chart(svg=_draw(height, draw, drawing_key("levels", pivot, sorted(label.items()))), alt=alt, table=table)


# --- the river discharge (or national supply) against its thresholds -------------------------


@dataclass(frozen=True)
class Threshold:
    """A line the series is judged against: its value (in the series' unit) and its meaning."""

    value: float
    label_nl: str
    label_en: str


def river_chart(series: pd.Series, thresholds: list[Threshold], *, title_nl: str, title_en: str, unit: str,
                normal: pd.Series | None = None) -> Chart:
    """A daily series (e.g. the Rhine at Lobith, m³/s) with its thresholds as dashed red lines
    (darker for the more serious one) and, where given, its normal (median by calendar day)."""
    series = series.dropna()
    if series.empty:
        raise ValueError("river_chart: no values to draw")
    shades = ("#fb6a4a", "#a50f15", "#67000d")
    ordered = sorted(thresholds, key=lambda t: -t.value)

    entries = len(ordered) + 1 + (normal is not None)
    height = 190 + 17 * entries
    bottom = (17 * entries + 38) / height  # room for the legend below the month labels

    def draw(figure, lang):
        axes = figure.add_axes((0.17, bottom, 0.8, 0.97 - bottom))
        if normal is not None:
            axes.plot(normal.index, normal.to_numpy(), color="#595959", linestyle="--", linewidth=1.5,
                      label="normaal (mediaan)" if lang == "nl" else "normal (median)")
        for t, colour in zip(ordered, shades):
            axes.axhline(t.value, color=colour, linestyle=(0, (5, 3)), linewidth=1.5,
                         label=f"{fmt(t.value, 0, lang)} {unit}: {t.label_nl if lang == 'nl' else t.label_en}")
        axes.plot(series.index, series.to_numpy(), color="#000000", linewidth=2.2,
                  label=title_nl if lang == "nl" else title_en)
        axes.set_ylabel(unit)
        axes.set_ylim(bottom=0)
        axes.set_xlim(series.index[0], series.index[-1])
        _month_axis(axes, lang)
        axes.grid(alpha=0.3)
        figure.legend(loc="lower center", ncol=1, frameon=False, handlelength=2.2)

    now, at = float(series.iloc[-1]), series.index[-1]
    low, low_at = float(series.min()), series.idxmin()
    below = {lang: ", ".join(f"{'onder' if lang == 'nl' else 'below'} {fmt(t.value, 0, lang)} {unit} "
                             f"({t.label_nl if lang == 'nl' else t.label_en})" for t in ordered if now < t.value)
             for lang in LANGUAGES}
    alt = {"nl": f"{title_nl}: op {day_label(at, 'nl')} {fmt(now, 0, 'nl')} {unit}"
                 + (f", {below['nl']}" if below["nl"] else ", boven alle drempels")
                 + f"; laagste dit seizoen {fmt(low, 0, 'nl')} {unit} op {day_label(low_at, 'nl')}.",
           "en": f"{title_en}: {fmt(now, 0, 'en')} {unit} on {day_label(at, 'en')}"
                 + (f", {below['en']}" if below["en"] else ", above every threshold")
                 + f"; lowest this season {fmt(low, 0, 'en')} {unit} on {day_label(low_at, 'en')}."}
    weekly = series.resample("7D", origin="end").agg(["mean", "min"])
    header = [("week tot en met", "week to"), ("gemiddeld", "mean"), ("laagste", "lowest")]
    rows = [[(day_label(d, "nl"), day_label(d, "en")), _both(r["mean"]), _both(r["min"])]
            for d, r in weekly.iterrows()]
    table = ChartTable(f"{title_nl} ({unit}) per week; drempels "
                       + ", ".join(f"{fmt(t.value, 0, 'nl')} ({t.label_nl})" for t in ordered),
                       f"{title_en} ({unit}) per week; thresholds "
                       + ", ".join(f"{fmt(t.value, 0, 'en')} ({t.label_en})" for t in ordered), header, rows)
    facts = {"day": at.date(), "now": now, "lowest": low, "lowest_day": low_at.date(), "unit": unit,
             "thresholds": ordered, "title_nl": title_nl, "title_en": title_en}
    return Chart(svg=_draw(height, draw), alt=alt, table=table, facts=facts)
