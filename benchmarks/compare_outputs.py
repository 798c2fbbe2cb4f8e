"""Behaviour stays: the demo's processed outputs and open data against another git revision.

Runs ``droogte demo`` twice into a scratch folder — once with the code of a reference
revision (``git archive``, run with this environment's packages) and once with the working
tree — and compares, file by file:

* every Parquet table of ``data/processed/demo/`` (values, columns and types), leaving out only
  the times a run stamps on what it writes (``issued_at``, ``ingested_at``, ``quarantined_at``,
  the approval's ``at``), the run's own folder in file paths, and what is derived from them (a decision record's ``record_id``,
  which hashes ``issued_at``; ``corrects``, which names such an id: only whether it is set
  is compared);
* every netCDF dataset (``xarray.testing.assert_identical``: values, coordinates, attributes);
* the QC reports in ``qc/`` (their file names carry the time of the run; the contents are
  compared per source);
* the published open data: ``restrictions.csv`` and ``restrictions.geojson`` without their
  ``issued_at``, and ``metadata.json`` without ``issued_at`` and the files' SHA-256 (which
  covers ``issued_at``).

It also counts how often each run parses its setup's YAML (``yaml.safe_load`` of a text
holding ``water_boards:``, or ``yaml.load`` with the setup's own ``SetupLoader``), and prints the lines of Python per top-level folder of both trees.

Sizes: the demo (2 water boards, 64 districts, 6 stations since 1991, 16 wells, 24 sensors;
run date 15 August 2025); each run takes a few minutes. Usage::

    .venv/bin/python benchmarks/compare_outputs.py --reference e53b6fc [--workdir /tmp/compare]

Exit status 0 when everything compared is equal, 1 otherwise (the differences are listed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent

#: Columns that hold the time a run wrote something, per table.
RUN_STAMPS = {"issued_at", "ingested_at", "quarantined_at"}
APPROVAL_STAMPS = {"at"}

# Run inside the child interpreter: count the setup's YAML parses, then run the CLI.
_RUNNER = """
import atexit, sys, yaml
parses = 0
_safe_load, _load = yaml.safe_load, yaml.load
def counting_safe_load(stream, *a, **k):  # how the setup was read before its schema
    global parses
    if isinstance(stream, str) and "water_boards:" in stream:
        parses += 1
    return _safe_load(stream, *a, **k)
def counting_load(stream, Loader=None, *a, **k):  # pipelines/config_yaml.py: SetupLoader
    global parses
    if getattr(Loader, "__name__", "") == "SetupLoader":
        parses += 1
    return _load(stream, Loader, *a, **k)
yaml.safe_load, yaml.load = counting_safe_load, counting_load
atexit.register(lambda: print(f"[compare] setup YAML parses: {parses}", flush=True))
from pipelines.cli import main
sys.exit(main(["demo", "--root", sys.argv[1]]))
"""


def run_demo(source: Path, out: Path, log: Path) -> int:
    """Run ``droogte demo`` with the code in ``source`` into ``out``; the number of setup parses."""
    if (out / "data" / "processed" / "demo" / "decisions.parquet").exists() and log.exists():
        print(f"reusing the run in {out}", flush=True)
    else:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # a temporary local API
        env |= {"PYTHONPATH": str(source), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
                "PREFECT_HOME": str(out.parent / f".prefect-{out.name}")}
        with log.open("w") as handle:
            subprocess.run([sys.executable, "-c", _RUNNER, str(out)], cwd=source, env=env, check=True,
                           stdout=handle, stderr=subprocess.STDOUT)
    for line in log.read_text().splitlines():
        if line.startswith("[compare] setup YAML parses:"):
            return int(line.rsplit(":", 1)[1])
    return -1


def lines_per_folder(tree: Path) -> dict[str, int]:
    """Lines of Python per top-level folder (pipelines, models, dashboards, tests, benchmarks)."""
    counts = {}
    for folder in ("pipelines", "models", "dashboards", "tests", "benchmarks"):
        counts[folder] = sum(len(p.read_text(encoding="utf-8").splitlines())
                             for p in (tree / folder).rglob("*.py"))
    return counts


def _table(path: Path, run_root: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    for column in frame.columns:  # file paths name the run's own folder: compare them relative to it
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(lambda v: v.replace(str(run_root), "<run>") if isinstance(v, str) else v)
    drop = (RUN_STAMPS | (APPROVAL_STAMPS if path.name == "approvals.parquet" else set())) & set(frame.columns)
    if "record_id" in frame.columns:
        drop |= {"record_id"}
    if "corrects" in frame.columns:
        frame["corrects"] = frame["corrects"].notna()
    frame = frame.drop(columns=sorted(drop))
    if "geometry" in frame.columns:
        frame["geometry"] = frame["geometry"].map(bytes)
    return frame


def compare_processed(reference: Path, current: Path, roots: tuple[Path, Path]) -> list[str]:
    differences = []
    names = sorted({p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file()}
                   | {p.relative_to(current).as_posix() for p in current.rglob("*") if p.is_file()})
    qc = {"reference": {}, "current": {}}
    for name in names:
        a, b = reference / name, current / name
        if name.startswith("qc/"):
            for side, path in (("reference", a), ("current", b)):
                if path.exists():
                    report = json.loads(path.read_text())
                    qc[side][report["source"]] = report
            continue
        if not a.exists() or not b.exists():
            differences.append(f"processed/{name}: only in the {'current' if b.exists() else 'reference'} run")
            continue
        try:
            if name.endswith(".parquet"):
                pd.testing.assert_frame_equal(_table(a, roots[0]), _table(b, roots[1]))
            elif name.endswith(".nc"):
                with xr.open_dataset(a) as x, xr.open_dataset(b) as y:
                    xr.testing.assert_identical(x.load(), y.load())
            elif a.read_bytes() != b.read_bytes():
                differences.append(f"processed/{name}: bytes differ")
        except AssertionError as exc:
            differences.append(f"processed/{name}: {str(exc).splitlines()[0:3]}")
    if qc["reference"] != qc["current"]:
        differences.append("processed/qc: the QC reports differ")
    return differences


def compare_open_data(reference: Path, current: Path) -> list[str]:
    differences = []
    a = pd.read_csv(reference / "restrictions.csv", dtype=str, keep_default_na=False).drop(columns="issued_at")
    b = pd.read_csv(current / "restrictions.csv", dtype=str, keep_default_na=False).drop(columns="issued_at")
    if not a.equals(b):
        differences.append("site/restrictions.csv differs")

    def features(path: Path):
        collection = json.loads(path.read_text())
        for feature in collection["features"]:
            feature["properties"].pop("issued_at")
        return collection

    if features(reference / "restrictions.geojson") != features(current / "restrictions.geojson"):
        differences.append("site/restrictions.geojson differs")

    def metadata(path: Path):
        meta = json.loads(path.read_text())
        meta.pop("issued_at")
        for entry in meta["files"].values():
            entry.pop("sha256")
        return meta

    if metadata(reference / "metadata.json") != metadata(current / "metadata.json"):
        differences.append("site/metadata.json differs")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", required=True, help="git revision to compare against")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (kept; runs in it are reused)")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="droogte-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / "reference-src"
    if not source.exists():
        source.mkdir()
        archive = subprocess.run(["git", "archive", args.reference], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    parses = {"reference": run_demo(source, work / "reference", work / "reference.log"),
              "current": run_demo(ROOT, work / "current", work / "current.log")}

    differences = compare_processed(work / "reference" / "data" / "processed" / "demo",
                                    work / "current" / "data" / "processed" / "demo",
                                    (work / "reference", work / "current"))
    differences += compare_open_data(work / "reference" / "dashboards" / "site",
                                     work / "current" / "dashboards" / "site")
    before, after = lines_per_folder(source), lines_per_folder(ROOT)
    print(f"reference {args.reference} against the working tree; runs in {work}")
    print(f"setup YAML parses per demo run: reference {parses['reference']}, current {parses['current']}")
    print("lines of Python per folder (reference → current):")
    for folder in before:
        print(f"  {folder:11s} {before[folder]:6d} → {after[folder]:6d}")
    if differences:
        print(f"{len(differences)} difference(s):")
        for line in differences:
            print("  " + line)
        return 1
    print("processed outputs and open data: equal apart from the run's time stamps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
