"""Size of the citizen page for a national-scale setup: 10,000 synthetic districts.

A grid of square districts sharing borders (``tests/synthetic.py``) is rendered as the
citizen page; the script prints the size of ``index.html`` raw and gzip-compressed (what a
phone downloads from a server that compresses) and the time to render. The page must stay
under 2 MB raw.

    .venv/bin/python benchmarks/bench_page_size.py [--districts 10000]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test fixtures live in tests/

from dashboards.citizen_map import render_citizen_page  # noqa: E402
from dashboards.public_record import checked_metadata, public_districts  # noqa: E402
from tests.synthetic import synthetic_districts, synthetic_metadata  # noqa: E402

LIMIT_BYTES = 2_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=10_000)
    args = parser.parse_args()
    public = public_districts(synthetic_districts(args.districts, seed=1, cell_m=1_500.0))
    metadata = checked_metadata(synthetic_metadata())
    start = time.perf_counter()
    page = render_citizen_page(public, metadata).encode("utf-8")
    seconds = time.perf_counter() - start
    compressed = len(gzip.compress(page, compresslevel=6))
    print(f"districts: {args.districts}")
    print(f"index.html: {len(page) / 1e6:.3f} MB raw, {compressed / 1e6:.3f} MB gzip; rendered in {seconds:.1f} s")
    print(f"limit: {LIMIT_BYTES / 1e6:.1f} MB raw -> {'OK' if len(page) < LIMIT_BYTES else 'TOO LARGE'}")
    return 0 if len(page) < LIMIT_BYTES else 1


if __name__ == "__main__":
    raise SystemExit(main())
