"""folium map pieces that load nothing from third parties.

folium's ``Map`` lists Leaflet, jQuery, Bootstrap and Font Awesome on public CDNs in the
class-level ``default_js``/``default_css``; changing those lists would change every map in
the process. ``SelfContainedMap`` is a subclass with its own lists pointing at the copies the
site ships in ``assets/`` (see ``dashboards/assets.py``), and a header without folium's
zoom-blocking viewport tag (the page sets its own, which lets people zoom).

``DistrictLayer`` draws every district from one compact data block in the page (see
``dashboards/geometry.encode_compact``) as a single Leaflet GeoJSON layer styled by property,
instead of one folium object per district: a 10,000-district page stays small.
"""

from __future__ import annotations

import folium
from branca.element import Figure, MacroElement
from folium.template import Template
from markupsafe import Markup

from dashboards.escape import html_text, js_template_literal

ASSET_PREFIX = "assets/"


class SelfContainedMap(folium.Map):
    """A ``folium.Map`` whose scripts and styles come from the site's own ``assets/`` folder."""

    default_js = [
        ("leaflet", ASSET_PREFIX + "leaflet/leaflet.js"),
        ("droogte_map", ASSET_PREFIX + "droogte-map.js"),
    ]
    default_css = [("leaflet_css", ASSET_PREFIX + "leaflet/leaflet.css")]

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>
                #{{ this.get_name() }} { position: relative; width: 100%; height: 100%; }
            </style>
        {% endmacro %}

        {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }} role="region"
                 aria-label="{{ this.aria_label }}"></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{ this.options|tojavascript }}
                }
            );
        {% endmacro %}
        """
    )

    def __init__(self, *, aria_label: str, **kwargs):
        kwargs.setdefault("tiles", None)
        super().__init__(**kwargs)
        self.aria_label = html_text(aria_label)


class DistrictLayer(MacroElement):
    """All districts as one Leaflet layer, built by ``droogte.districtLayer`` in the page.

    ``data_id`` is the id of the ``<script type="application/json">`` block holding the
    districts; ``value`` names what colours the shapes (``"restriction"`` or a numeric
    indicator in the data's ``values``); ``fit`` zooms the map to the layer.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = droogte.districtLayer(
                document.getElementById({{ this.data_id|tojson }}),
                {value: `{{ this.value }}`, fit: {{ this.fit|tojson }}, map: {{ this.map_name }}}
            ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data_id: str, *, value: str = "restriction", fit: bool = True, name: str | None = None):
        super().__init__()
        self._name = "DistrictLayer"
        self.data_id = data_id
        self.value = js_template_literal(value)
        self.fit = fit
        self.layer_name = name
        self.map_name = ""

    def render(self, **kwargs):
        # The layer sits on the map itself or in a FeatureGroup on it; the script needs the map.
        owner = self._parent
        while not isinstance(owner, folium.Map):
            owner = owner._parent
        self.map_name = owner.get_name()
        super().render(**kwargs)


def add_tiles(m: folium.Map, tiles: dict | None) -> None:
    """Add a background tile layer when ``tiles`` (``{"url": …, "attribution": …}``) is given.

    Off by default: tiles come from a third-party server, which the published pages otherwise
    never contact. The attribution is escaped text.
    """
    if not tiles:
        return
    for key in ("url", "attribution"):
        if not isinstance(tiles.get(key), str) or not tiles[key]:
            raise ValueError(f"tiles[{key!r}] must be a non-empty string")
    folium.TileLayer(tiles=tiles["url"], attr=html_text(tiles["attribution"]), name="Achtergrond / Background",
                     overlay=False, control=False).add_to(m)


def render_map_parts(m: folium.Map) -> dict[str, Markup]:
    """Render ``m`` and return its ``header``, ``html`` and ``script`` parts for a page template.

    The parts are folium's own output (values inside them were escaped when the elements
    were built); they go into the page unchanged.
    """
    figure = Figure()
    m.add_to(figure)
    figure.header._children.pop("meta_http", None)  # the page template declares its charset
    for child in list(figure._children.values()):
        child.render()
    return {
        "header": Markup(figure.header.render()),
        "html": Markup(figure.html.render()),
        "script": Markup(figure.script.render()),
    }
