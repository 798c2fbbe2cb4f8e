"""The verdringingsreeks: the legal priority order of water uses when water is short.

The verdringingsreeks ("displacement series", Waterwet art. 2.9, Waterbesluit art. 2.1; under
the Omgevingswet Bkl art. 3.14) ranks uses of surface water in categories:

====  ======================================  ===========================================
1a    stability of water defences (dikes)     ``dike_stability``
1b    preventing subsidence of peat/settlement ``peat``
1c    nature bound to soil conditions          ``nature_soil``
2a    drinking water                           ``drinking_water``
2b    energy supply (cooling water)            ``cooling_water``
3     small-scale high-value use               ``high_value_irrigation``, ``process_water``
4     other interests, weighed economically    ``agriculture``, ``industry``, ``shipping``,
                                               ``recreation``, ``nature_other``
====  ======================================  ===========================================

The order of the categories, and inside 1 and 2, is national. A province may rank the uses
inside category 3 and inside category 4, never across categories. Every use is its own
priority step: a lower step gets water only when every higher step that the same water can
reach is served.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = ("1a", "1b", "1c", "2a", "2b", "3", "4")

#: Every use with its category, in the default order (the order of the law's lists).
CATEGORY_OF_USE: dict[str, str] = {
    "dike_stability": "1a",
    "peat": "1b",
    "nature_soil": "1c",
    "drinking_water": "2a",
    "cooling_water": "2b",
    "high_value_irrigation": "3",
    "process_water": "3",
    "agriculture": "4",
    "industry": "4",
    "shipping": "4",
    "recreation": "4",
    "nature_other": "4",
}

USES: tuple[str, ...] = tuple(CATEGORY_OF_USE)

#: The categories whose internal order a province may set, with their configuration keys.
CONFIGURABLE = {"category_3": "3", "category_4": "4"}


def _uses_in(category: str) -> list[str]:
    return [use for use, cat in CATEGORY_OF_USE.items() if cat == category]


@dataclass(frozen=True)
class PriorityOrder:
    """All uses, highest priority first; each use is one priority step.

    Build it with :meth:`default` or :meth:`from_config`; the constructor checks that the
    order respects the categories.
    """

    uses: tuple[str, ...] = USES

    def __post_init__(self) -> None:
        if sorted(self.uses) != sorted(USES):
            raise ValueError(f"uses {list(self.uses)} must be exactly the uses {list(USES)}")
        ranks = [CATEGORIES.index(CATEGORY_OF_USE[use]) for use in self.uses]
        if ranks != sorted(ranks):
            raise ValueError(
                f"uses {list(self.uses)} cross categories; categories must stay in the order "
                f"{list(CATEGORIES)}"
            )

    @classmethod
    def default(cls) -> PriorityOrder:
        """The order of the law's own lists."""
        return cls(USES)

    @classmethod
    def from_config(cls, config: Mapping[str, Sequence[str]] | None) -> PriorityOrder:
        """Order set by a province: ``{"category_3": [...], "category_4": [...]}``.

        Either key may be left out (the default order of that category is kept). Each list
        must name every use of its category exactly once.
        """
        config = dict(config or {})
        unknown_keys = sorted(set(config) - set(CONFIGURABLE))
        if unknown_keys:
            raise ValueError(
                f"unknown key(s) {unknown_keys} in the verdringingsreeks configuration; "
                f"valid keys: {sorted(CONFIGURABLE)} (categories 1 and 2 are national)"
            )
        order: dict[str, list[str]] = {cat: _uses_in(cat) for cat in CATEGORIES}
        for key, category in CONFIGURABLE.items():
            if key not in config:
                continue
            given = config[key]
            if isinstance(given, str) or not isinstance(given, Sequence):
                raise ValueError(f"{key} must be a list of uses, got {given!r}")
            valid = _uses_in(category)
            for use in given:
                if use not in CATEGORY_OF_USE:
                    raise ValueError(f"{key}: unknown use {use!r}; valid values: {valid}")
                if CATEGORY_OF_USE[use] != category:
                    raise ValueError(
                        f"{key}: use {use!r} belongs to category {CATEGORY_OF_USE[use]}, "
                        f"not {category}; valid values: {valid}"
                    )
            duplicates = sorted({use for use in given if list(given).count(use) > 1})
            if duplicates:
                raise ValueError(f"{key}: use(s) {duplicates} listed twice; valid values: {valid}")
            missing = [use for use in valid if use not in given]
            if missing:
                raise ValueError(f"{key}: missing use(s) {missing}; valid values: {valid}")
            order[category] = list(given)
        return cls(tuple(use for cat in CATEGORIES for use in order[cat]))

    @property
    def categories(self) -> tuple[str, ...]:
        """The category of each use, in priority order."""
        return tuple(CATEGORY_OF_USE[use] for use in self.uses)

    def index(self, use: str) -> int:
        """Priority step of ``use`` (0 is the highest)."""
        return self.uses.index(use)

    def __iter__(self) -> Iterator[str]:
        return iter(self.uses)

    def __len__(self) -> int:
        return len(self.uses)
