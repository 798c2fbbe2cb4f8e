"""Rendering of droogte: folium maps, pages, charts and the static assets they ship with."""
