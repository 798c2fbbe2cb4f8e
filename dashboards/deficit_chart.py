"""The precipitation deficit chart in the manner of KNMI's: this year against the median, the
5 %-driest line (1906-2019) and the dry years 1976 and 2018, for a district, a water board
or the nation. Rendered with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # render without a display, also on servers and in tests

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

_STYLE = {
    "median": {"color": "#4d4d4d", "linestyle": "--", "label": "median 1906-2019"},
    "driest_5pct": {"color": "#b2182b", "linestyle": ":", "label": "5 % driest 1906-2019"},
    "1976": {"color": "#ef8a62", "linestyle": "-", "linewidth": 1.0, "label": "1976"},
    "2018": {"color": "#67a9cf", "linestyle": "-", "linewidth": 1.0, "label": "2018"},
}


def deficit_chart(
    current: pd.Series,
    climatology: pd.DataFrame,
    *,
    title: str,
    path: Path | str | None = None,
    dpi: int = 100,
) -> bytes:
    """Draw the chart and return it as PNG bytes; also write it to ``path`` when given.

    ``current``: this season's deficit (mm), indexed by date; ``climatology``: the table of
    :func:`models.indicators.climatology.deficit_climatology` (index ``"MM-DD"``; columns ``median``,
    ``driest_5pct`` and comparison years).
    """
    if current.empty:
        raise ValueError("current: no deficit values to draw")
    reference = climatology.attrs.get("reference_years", "1906-2019")
    styles = {key: dict(style) for key, style in _STYLE.items()}
    styles["median"]["label"] = f"median {reference}"
    styles["driest_5pct"]["label"] = f"5 % driest {reference}"
    year = int(current.index[0].year)
    days = pd.to_datetime([f"{year}-{day}" for day in climatology.index], errors="coerce")
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=dpi)
    try:
        axes.fill_between(days, 0, climatology["driest_5pct"], color="#fddbc7", alpha=0.5, linewidth=0)
        for column, style in styles.items():
            if column in climatology.columns:
                axes.plot(days, climatology[column], **style)
        axes.plot(current.index, current.to_numpy(), color="black", linewidth=2.2, label=str(year))
        # A title holds names from the setup; '$' in a name is text, never mathtext.
        axes.set_title(title, parse_math=False)
        axes.set_ylabel("potential precipitation deficit (mm)")
        axes.set_ylim(bottom=0)
        axes.xaxis.set_major_locator(mdates.MonthLocator())
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%b"))
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", frameon=False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(figure)
    png = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png
