"""Size and first paint of the citizen page for a national-scale setup: 10,000 districts.

A grid of square districts sharing borders (``tests/synthetic.py``) is published as a whole
site (page, assets, feeds, open data) with its orientation layer (the municipality and
province borders, the places and the large waters the project carries, placed so the grid
lies over the Netherlands). The
script prints the size of ``index.html`` raw and gzip-compressed (what a phone downloads from
a server that compresses) and the time to render; then, where Chromium and Playwright are
present, opens the page in headless Chromium at 390×844 and 1366×900 and prints the time to
first contentful paint, the time until the map is drawn, the page height and the bytes the
browser fetched. The page must stay under 2 MB raw.

    .venv/bin/python benchmarks/bench_page_size.py [--districts 10000] [--site PATH]

``--site`` measures an already published site (e.g. ``dashboards/site`` after ``make demo``)
in the browser instead of building one. Figures depend on the machine: state it with them.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test fixtures live in tests/

from dashboards.site import publish_site  # noqa: E402
from tests.synthetic import synthetic_citizen_inputs, synthetic_districts, synthetic_metadata  # noqa: E402

LIMIT_BYTES = 2_000_000
CHROMIUM = Path("/usr/bin/chromium")
SIZES = ((390, 844), (1366, 900))


def build(n: int, folder: Path) -> Path:
    from pipelines.reference.geography import reference_layer, reference_places, reference_waters

    districts = synthetic_districts(n, seed=1, cell_m=1_500.0, origin=(80_000.0, 380_000.0))
    citizen = synthetic_citizen_inputs(districts)
    citizen["orientation"] = {layer: reference_layer(layer, crs="EPSG:28992")
                              for layer in ("municipalities", "provinces")}
    citizen["orientation"] |= {"places": reference_places(crs="EPSG:28992"),
                               "waters": reference_waters(crs="EPSG:28992")}
    start = time.perf_counter()
    site = publish_site(districts, synthetic_metadata(), folder / "site", citizen=citizen)
    seconds = time.perf_counter() - start
    page = (site / "index.html").read_bytes()
    compressed = len(gzip.compress(page, compresslevel=6))
    print(f"districts: {n}")
    print(f"index.html: {len(page) / 1e6:.3f} MB raw, {compressed / 1e6:.3f} MB gzip; "
          f"site published in {seconds:.1f} s")
    print(f"limit: {LIMIT_BYTES / 1e6:.1f} MB raw -> {'OK' if len(page) < LIMIT_BYTES else 'TOO LARGE'}")
    return site


def measure_in_browser(site: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser: skipped (Python package playwright is not installed)")
        return
    if not CHROMIUM.exists():
        print(f"browser: skipped ({CHROMIUM} is absent)")
        return

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            for width, height in SIZES:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                fetched = []
                page.on("response", lambda r: fetched.append(len(r.body()) if r.ok else 0))
                start = time.perf_counter()
                page.goto(url, wait_until="load")
                page.wait_for_selector("body[data-map-ready]", state="attached")
                drawn = time.perf_counter() - start
                fcp = page.evaluate("""() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime""")
                page_height = page.evaluate("document.documentElement.scrollHeight")
                print(f"{width}x{height}: first contentful paint {fcp / 1000:.2f} s, map drawn after {drawn:.2f} s, "
                      f"page height {page_height} px ({page_height / height:.1f} screens), "
                      f"fetched {sum(fetched) / 1e6:.3f} MB in {len(fetched)} responses (uncompressed)")
                context.close()
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=10_000)
    parser.add_argument("--site", type=Path, help="measure this published site instead of building one")
    args = parser.parse_args()
    if args.site:
        measure_in_browser(args.site.resolve())
        return 0
    with tempfile.TemporaryDirectory() as folder:
        site = build(args.districts, Path(folder))
        size = (site / "index.html").stat().st_size
        measure_in_browser(site)
    return 0 if size < LIMIT_BYTES else 1


if __name__ == "__main__":
    raise SystemExit(main())
