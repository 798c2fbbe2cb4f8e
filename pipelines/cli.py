"""The ``droogte`` command line: generate the demo, run the daily pipeline, ingest alone.

    droogte demo                      generate the embedded demo and run the pipeline on it
    droogte run --config FILE         run the daily pipeline for a setup
    droogte outlook --config FILE     the outlook for the coming weeks, publishing nothing
    droogte ingest --config FILE      ingest the setup's files only
    droogte bulletin --config FILE    write the weekly drought bulletin of a day's stored run
    droogte config check FILE         validate a setup file without running anything
    droogte config schema             print the setup file's JSON Schema (for editors)
    droogte config reference          print the setup file's reference (docs/configuration.md)

Flows run without a Prefect server unless ``PREFECT_API_URL`` points at one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="droogte",
        description="Decision support for water boards in droughts: ingest rainfall, groundwater "
        "and sensor data, compute drought indicators, allocate water by the verdringingsreeks, "
        "decide restrictions and publish the restriction map.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate the embedded demo setup and run the pipeline on it",
                          description="Write a fictional setup (two water boards, 64 districts, six "
                          "stations, wells and sensors) in the real file formats into data/raw/demo, "
                          "then run the daily pipeline on it. Deterministic for a given seed.")
    demo.add_argument("--root", type=Path, default=Path.cwd(),
                      help="project folder holding data/ and dashboards/ (default: the current folder)")
    demo.add_argument("--seed", type=int, default=None, help="seed of the generator (default: fixed)")
    demo.add_argument("--generate-only", action="store_true", help="write the demo files, do not run")
    demo.add_argument("--dask-address", default=None,
                      help="address of an existing Dask scheduler (default: a local cluster)")

    run = sub.add_parser("run", help="run the daily pipeline for a setup",
                         description="Ingest, compute indicators, allocate, decide restrictions and "
                         "publish for one day.")
    run.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    run.add_argument("--date", type=_date, default=None,
                     help="the day to run for, YYYY-MM-DD (default: the configuration's date, else today)")
    run.add_argument("--dask-address", default=None,
                     help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                     "(default: dask.address in the configuration, else a local cluster)")

    outlook = sub.add_parser("outlook", help="compute the outlook for the coming weeks, publishing nothing",
                             description="Indicators, the allocation so far and the outlook ensemble (one "
                             "member per past year of the station records) from a day, with the probability "
                             "of shortage per water board and category. Decisions and the site stay as they are.")
    outlook.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    outlook.add_argument("--date", type=_date, default=None,
                         help="the day to start from, YYYY-MM-DD (default: the configuration's date, else today)")
    outlook.add_argument("--horizon-days", type=int, default=None,
                         help="days ahead (default: outlook.horizon_days in the configuration, 42)")
    outlook.add_argument("--dask-address", default=None, help="address of an existing Dask scheduler")

    bulletin = sub.add_parser("bulletin", help="write the weekly drought bulletin (HTML, Dutch and English)",
                              description="Write the bulletin of the week of --date from the stored run of "
                              "that day (run `droogte run --date` first) beside the published site, in "
                              "Dutch and English. The daily run writes it by itself on "
                              "publication.bulletin_weekday.")
    bulletin.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    bulletin.add_argument("--date", type=_date, default=None,
                          help="the day, YYYY-MM-DD (default: the configuration's date, else today)")

    ingest = sub.add_parser("ingest", help="ingest the setup's data files only",
                            description="Archive, read, quality-check and store the setup's files.")
    ingest.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    ingest.add_argument("--source", choices=("all", "meteo", "groundwater", "sensors"), default="all",
                        help="which kind of source to ingest (default: all)")

    config = sub.add_parser("config", help="check a setup file, or print its schema or reference",
                            description="Validate a setup file without running anything, or print the "
                            "schema every setup file is checked against.")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate a setup file; exit 0 when valid, 2 with every "
                                  "fault found when not")
    check.add_argument("file", type=Path, help="the setup's YAML configuration file")
    config_sub.add_parser("schema", help="print the JSON Schema of a setup file (for an editor's YAML "
                          "language server)")
    config_sub.add_parser("reference", help="print the Markdown reference of every key "
                          "(docs/configuration.md)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from a closed network
    # Imported here so that `droogte --help` answers at once, without loading Prefect.
    from pipelines.config import ConfigError, load_config

    try:
        if args.command == "config":
            return _config_command(args)
        if args.command == "demo":
            config_path = _generate_demo(args.root.resolve(), args.seed)
            if args.generate_only:
                return 0
            return _run(load_config(config_path), None, args.dask_address)
        config = load_config(args.config)
        if args.command == "run":
            return _run(config, args.date, args.dask_address)
        if args.command == "outlook":
            return _outlook(config, args.date, args.horizon_days, args.dask_address)
        if args.command == "bulletin":
            return _bulletin(config, args.date)
        return _ingest(config, args.source)
    except ConfigError as exc:
        print(f"droogte: configuration error: {exc}", file=sys.stderr)
        return 2


def _config_command(args: argparse.Namespace) -> int:
    """``droogte config check|schema|reference``: nothing runs, nothing is written."""
    import json

    from pipelines.config import load_config
    from pipelines.config_reference import json_schema, markdown_reference

    if args.config_command == "schema":
        print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    elif args.config_command == "reference":
        print(markdown_reference(), end="")
    else:
        config = load_config(args.file)  # a ConfigError is reported by main
        print(f"{config.path}: valid: setup {config.name!r}, {len(config.water_boards)} water board(s), "
              f"{len(config.stations)} station(s), {len(config.wells)} well(s), {len(config.sensors)} "
              f"sensor file(s), {len(config.rules.rules)} rule(s)")
    return 0


def _generate_demo(root: Path, seed: int | None) -> Path:
    from pipelines.demo import DEMO_SEED, write_demo

    folder = root / "data" / "raw" / "demo"
    print(f"[droogte] writing the demo setup to {folder}", flush=True)
    return write_demo(
        folder,
        processed_dir=root / "data" / "processed" / "demo",
        site_dir=root / "dashboards" / "site",
        archive_dir=root / "data" / "raw" / "archive",
        seed=DEMO_SEED if seed is None else seed,
    )


def _run(config, date: dt.date | None, dask_address: str | None) -> int:
    from pipelines.daily_run import drought_run

    day = date or config.date or dt.date.today()
    started = time.perf_counter()
    print(f"[droogte] daily run of setup {config.name!r} for {day.isoformat()}", flush=True)
    result = drought_run(config_path=str(config.path), date=day.isoformat(), dask_address=dask_address, config=config)
    print(f"[droogte] finished in {time.perf_counter() - started:.1f} s", flush=True)
    for label, path in result["outputs"].items():
        print(f"  {label:<14} {path}")
    return 0


def _outlook(config, date: dt.date | None, horizon_days: int | None, dask_address: str | None) -> int:
    from pipelines.outlook_run import outlook_run

    day = date or config.date or dt.date.today()
    print(f"[droogte] outlook of setup {config.name!r} from {day.isoformat()}", flush=True)
    path = outlook_run(config_path=str(config.path), date=day.isoformat(), dask_address=dask_address,
                       horizon_days=horizon_days, config=config)
    print(f"  outlook        {path}")
    return 0


def _bulletin(config, date: dt.date | None) -> int:
    from pipelines.briefing import write_bulletin

    day = date or config.date or dt.date.today()
    try:
        pages = write_bulletin(config, day)
    except (FileNotFoundError, ValueError) as exc:
        print(f"droogte: {exc}", file=sys.stderr)
        return 1
    print(f"[droogte] weekly bulletin of setup {config.name!r} for {day.isoformat()}", flush=True)
    for page in pages:
        print(f"  bulletin       {page}")
    return 0


def _ingest(config, source: str) -> int:
    from pipelines.ingest import flows as ingest

    flows = {"all": ingest.ingest_all, "meteo": ingest.ingest_meteo,
             "groundwater": ingest.ingest_groundwater, "sensors": ingest.ingest_sensors}
    report = flows[source](config=config)
    print(report if isinstance(report, str) else _format_report(report))
    return 0


def _format_report(report) -> str:
    lines = []
    for source, summary in (report.items() if isinstance(report, dict) else [("result", report)]):
        lines.append(f"  {source:<12} {summary}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
