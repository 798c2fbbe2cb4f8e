"""The static files every published site ships: Leaflet 1.9.4 (BSD-2-Clause, from npm's
``leaflet`` package, unmodified, with its LICENSE), the project's page script and style sheet.

Nothing a page needs is loaded from elsewhere; these are copied beside the pages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ASSET_DIR = Path(__file__).parent / "assets"
SHIPPED = (
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/LICENSE",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
    "droogte-map.js",
    "droogte.css",
    "citizen.js",
    "citizen.css",
)


def copy_assets(site: Path) -> list[Path]:
    """Copy the shipped assets into ``site/assets/`` and return the paths written."""
    written = []
    for relative in SHIPPED:
        source = ASSET_DIR / relative
        if not source.is_file():
            raise FileNotFoundError(f"shipped asset {source} is missing from the installation")
        target = site / "assets" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    return written
