"""How each restriction looks and is named on the published pages.

A *restriction* is what a water board forbids in a district for now: ``none``; ``watch``
(nothing forbidden yet, water is getting short: use it sparingly); ``daytime_sprinkling_ban``
(no sprinkling from surface water between 07:00 and 19:00); ``surface_water_ban`` (no taking
of surface water at all, exemptions aside). The *groundwater irrigation ban* is separate and
can come on top of any of them. ``unknown`` is no restriction but the lack of one: the state
cannot be decided while the measurements it rests on are missing.

Colour never carries meaning alone: each restriction also has a level number, a fill
pattern and a name in Dutch and English (the names live in :mod:`models.wording`). Colours are from the Okabe-Ito palette, which stays
distinguishable with the common forms of colour blindness.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.wording import restriction_name


@dataclass(frozen=True)
class RestrictionStyle:
    """Name, level and look of one restriction."""

    code: str  # as in the decisions table (docs/contracts.md section 6)
    level: int  # 0 (nothing) … 3 (strictest); shown beside the name as a plain number
    colour: str  # fill colour, hex
    pattern: str  # id of the SVG fill pattern (see PATTERN_SVG); "" for a plain fill

    @property
    def badge(self) -> str:
        """What the badge beside the name shows: the level, or "?" when the state is unknown."""
        return "?" if self.level < 0 else str(self.level)

    @property
    def label_nl(self) -> str:
        """The Dutch name (:data:`models.wording.RESTRICTION_NAMES`)."""
        return restriction_name(self.code, lang="nl")

    @property
    def label_en(self) -> str:
        """The English name (:data:`models.wording.RESTRICTION_NAMES`)."""
        return restriction_name(self.code, lang="en")


RESTRICTIONS: tuple[RestrictionStyle, ...] = (
    RestrictionStyle("none", 0, "#f2f2f2", ""),
    RestrictionStyle("watch", 1, "#f0e442", "pattern-dots"),
    RestrictionStyle("daytime_sprinkling_ban", 2, "#e69f00", "pattern-lines"),
    RestrictionStyle("surface_water_ban", 3, "#d55e00", "pattern-cross"),
    # Not a restriction: the surface-water state is unknown because the measurements it rests
    # on are missing (models/restrictions/missing_input.py). Level -1: no rank among the others.
    RestrictionStyle("unknown", -1, "#999999", "pattern-unknown"),
)
BY_CODE: dict[str, RestrictionStyle] = {style.code: style for style in RESTRICTIONS}

GROUNDWATER_LABEL_NL = restriction_name("groundwater_ban", lang="nl")
GROUNDWATER_LABEL_EN = restriction_name("groundwater_ban", lang="en")
# The groundwater ban is drawn as a thick dashed outline in Okabe-Ito blue, so it shows on
# top of any restriction fill.
GROUNDWATER_OUTLINE = "#0072b2"

# Fill patterns in one hidden inline SVG; map shapes and legend swatches refer to them by
# url(#id). Strokes are dark at partial opacity so the colour beneath still reads.
PATTERN_SVG = """<svg class="patterns" width="0" height="0" aria-hidden="true" focusable="false">
<defs>
<pattern id="pattern-dots" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#f0e442"/><circle cx="4" cy="4" r="1.4" fill="#000" fill-opacity="0.55"/></pattern>
<pattern id="pattern-lines" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#e69f00"/><line x1="0" y1="0" x2="0" y2="8" stroke="#000" stroke-opacity="0.5" stroke-width="2"/></pattern>
<pattern id="pattern-cross" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#d55e00"/><line x1="0" y1="0" x2="0" y2="8" stroke="#000" stroke-opacity="0.55" stroke-width="2"/><line x1="0" y1="0" x2="8" y2="0" stroke="#000" stroke-opacity="0.55" stroke-width="2"/></pattern>
<pattern id="pattern-unknown" width="10" height="10" patternUnits="userSpaceOnUse"><rect width="10" height="10" fill="#999999"/><circle cx="5" cy="5" r="2.2" fill="none" stroke="#000" stroke-opacity="0.6" stroke-width="1.2"/></pattern>
</defs>
</svg>"""
