"""The ``droogte`` command line: generate the demo, run the daily pipeline, ingest alone.

    droogte demo                      generate the embedded demo and run the pipeline on it
    droogte init --out DIR ...        write a setup of real water boards from real files
    droogte run --config FILE         run the daily pipeline for a setup
    droogte outlook --config FILE     the outlook for the coming weeks, publishing nothing
    droogte ingest --config FILE      ingest the setup's files only
    droogte bulletin --config FILE    write the weekly drought bulletin of a day's stored run
    droogte config check FILE         validate a setup file without running anything
    droogte config schema             print the setup file's JSON Schema (for editors)
    droogte config reference          print the setup file's reference (docs/configuration.md)
    droogte ingest --forget FILE      take a file's rows out of the processed tables

Exit codes (pipelines/outcome.py): 0 all well, 1 failed, 2 configuration error, 3 published on
degraded data, 4 no new decisions (data too old), 5 refused (a day before the live issue).

Flows run without a Prefect server unless ``PREFECT_API_URL`` points at one.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import gc
import logging
import os
import sys
import time
from pathlib import Path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _horizon_days(text: str) -> int:
    # The same bounds as outlook.horizon_days in the setup file (pipelines/config_schema.py).
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= 366:
        raise argparse.ArgumentTypeError(f"expected a whole number of days from 1 to 366, got {text[:20]!r}")
    return days


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

    init = sub.add_parser(
        "init", help="write a complete setup of real water boards from real boundaries and data files",
        description="Make districts from your own polygons (--districts) or from the public water-board and "
        "municipality boundaries the project carries (--boards), pick the KNMI stations, DINO wells, FEWS "
        "sensors, the Lobith discharge and KNMI's national deficit series found in the --data folders, fill "
        "every district property with a documented default (marked as assumed), and write droogte.yaml and "
        "districts.geojson into --out. Nothing is copied; the setup refers to the files where they are.")
    init.add_argument("--out", type=Path, required=True, help="folder to write the setup into")
    where = init.add_mutually_exclusive_group(required=True)
    where.add_argument("--boards", nargs="+", metavar="BOARD",
                       help="water boards by code (WS21) or part of the name (Rijnland), or 'all'")
    where.add_argument("--districts", type=Path, metavar="FILE",
                       help="your own district polygons: GeoPackage, GeoJSON or Shapefile, any CRS")
    init.add_argument("--id-column", help="with --districts: the column with each district's unique id")
    init.add_argument("--name-column", help="with --districts: the column with the district's name (default: the id)")
    init.add_argument("--board-column", help="with --districts: the column with the water-board id "
                      "(default: the carried water board each district overlaps most)")
    init.add_argument("--data", type=Path, nargs="+", default=[], metavar="FOLDER",
                      help="folders to search for KNMI daily files, DINO CSVs, FEWS files, the Lobith "
                      "discharge and int_nl.dat (searched recursively)")
    init.add_argument("--name", help="name of the setup (default: from the water boards)")
    init.add_argument("--min-district-km2", type=float, default=1.0,
                      help="districts smaller than this are dropped as slivers and reported (default: 1 km²)")
    init.add_argument("--stations-per-district", type=int, default=3,
                      help="KNMI stations to use per district, the nearest with a file (default: 3)")

    replay = sub.add_parser(
        "replay", help="replay a season day by day into its own output, and write its timeline",
        description="Run each day from --from to --to as the daily run would have, with only the data up "
        "to that day, in one run; write the decisions, escalation and a timeline (table, chart, changes) "
        "into their own folder. The live site is never touched.")
    replay.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    replay.add_argument("--from", dest="first", type=_date, required=True, help="first day, YYYY-MM-DD")
    replay.add_argument("--to", dest="last", type=_date, required=True, help="last day, YYYY-MM-DD")
    replay.add_argument("--out", type=Path, default=None,
                        help="folder for the replay (default: <setup folder>/replays/<from>_<to>)")
    replay.add_argument("--outlook-every", type=int, default=7,
                        help="days between outlook ensembles; the days between reuse the last one (default: 7)")

    run = sub.add_parser("run", help="run the daily pipeline for a setup",
                         description="Ingest, compute indicators, allocate, decide restrictions and "
                         "publish for one day.")
    run.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    run.add_argument("--date", type=_date, default=None,
                     help="the day to run for, YYYY-MM-DD (default: the configuration's date, else today)")
    run.add_argument("--dask-address", default=None,
                     help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                     "(default: dask.address in the configuration, else a local cluster)")
    run.add_argument("--output", type=Path, default=None, metavar="DIR",
                     help="run into a timeline of its own: processed tables, decision log and site under DIR "
                     "(for back-tests and replays; the live site and decision log are not touched)")
    run.add_argument("--republish", action="store_true",
                     help="let a run for a day before the live issue replace it (otherwise refused, exit 5)")

    outlook = sub.add_parser("outlook", help="compute the outlook for the coming weeks, publishing nothing",
                             description="Indicators, the allocation so far and the outlook ensemble (one "
                             "member per past year of the station records) from a day, with the probability "
                             "of shortage per water board and category. Decisions and the site stay as they are.")
    outlook.add_argument("--config", type=Path, required=True, help="the setup's YAML configuration file")
    outlook.add_argument("--date", type=_date, default=None,
                         help="the day to start from, YYYY-MM-DD (default: the configuration's date, else today)")
    outlook.add_argument("--horizon-days", type=_horizon_days, default=None,
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
    ingest.add_argument("--forget", type=Path, default=None, metavar="FILE",
                        help="remove the rows that FILE brought from the processed tables (the raw archive "
                        "keeps its bytes; a log record goes to forgotten.jsonl) instead of ingesting")

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

    worker = sub.add_parser("worker", help="run a Prefect worker that stops on one Ctrl+C or SIGTERM",
                            description="Start `prefect worker start --pool POOL` and stop it, with "
                            "the flow runs it started, on one Ctrl+C or SIGTERM (prefect's own worker "
                            "needs two). Other options are passed on to `prefect worker start`.")
    worker.add_argument("--pool", required=True, help="the work pool, e.g. droogte-process")
    worker.add_argument("--grace-s", type=float, default=10.0,
                        help="seconds the worker may take to stop before it is ended (default 10)")
    parser.epilog = EXIT_CODES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


EXIT_CODES = """exit codes:
  0  all well
  1  failed: the run stopped; nothing new published
  2  configuration or command-line error; nothing done
  3  published on degraded data: a source or file failed, or data end before the day
  4  withheld: data older than freshness.max_age_days; no new decisions published
  5  refused: the day lies before the live issue or the decision log's last day
     (use --output DIR for a back-test, or --republish)"""


#: The exit code of :func:`entry`'s run, once :func:`main` has returned it.
_exit_code: list[int] = []


def entry() -> int:
    """The ``droogte`` command (``pyproject.toml``'s script): :func:`main`, in a process that
    ends without tearing down its modules once everything registered for the exit has run.

    Why: after the run, Python's own teardown of the modules a run imports (pandas, xarray,
    numba, Prefect, Dask...) costs about a second of CPU and does nothing a run needs: every
    output is written and closed by then, Prefect's workers have sent their last logs and
    events (they drain before the exit handlers), the temporary API server is stopped
    (:func:`pipelines.prefect_api.stop`, an exit handler). :func:`_end_without_teardown` is
    registered first, so it runs after every other exit handler, logging's included.

    The cyclic garbage collector is paused until the command's imports are done
    (:func:`_imports_done`): a run imports about 2,900 modules, whose objects it would otherwise
    traverse again at every full collection (about 1.2 s of the demo's daily run's CPU went to
    them, measured with ``gc.callbacks``). Reference counting frees memory as usual meanwhile.
    """
    atexit.register(_end_without_teardown)
    gc.disable()
    try:
        code = main()
    except SystemExit as exc:  # argparse's errors and --help: their code, teardown skipped as well
        if exc.code is None or isinstance(exc.code, int):
            _exit_code.append(exc.code or 0)
        raise
    _exit_code.append(int(code))
    return code


def _imports_done() -> None:
    """Resume the garbage collector paused by :func:`entry`, leaving what the imports made (the
    modules, their functions and classes, which live as long as the process) out of every
    later collection (:func:`gc.freeze`). Called once the command has imported what it runs."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _end_without_teardown() -> None:
    """End the process with :func:`entry`'s exit code, skipping the interpreter's teardown;
    without a code (an exception escaped), the usual teardown follows."""
    if not _exit_code:
        return
    logging.shutdown()  # flushes and closes every handler; a second call is harmless
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(_exit_code[-1])


def main(argv: list[str] | None = None) -> int:
    args, extra = build_parser().parse_known_args(argv)
    if extra and args.command != "worker":
        build_parser().parse_args(argv)  # the usual error for an unknown option
    if args.command == "worker":
        from pipelines import lifecycle

        prefect = Path(sys.executable).with_name("prefect")
        return lifecycle.run_supervised([str(prefect), "worker", "start", "--pool", args.pool, *extra],
                                        grace_s=args.grace_s)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from a closed network
    runs_flows = args.command in ("run", "outlook", "ingest") or (args.command == "demo" and not args.generate_only)
    # Imported here so that `droogte --help` answers at once, without loading Prefect.
    from pipelines import lifecycle, prefect_api

    # One Ctrl+C or SIGTERM stops the run within seconds, and nothing it started (Prefect's
    # temporary server, Dask workers) outlives it, not even after a SIGKILL.
    lifecycle.install_stop_handlers()
    if runs_flows and getattr(args, "forget", None) is None:
        # First of all: the server starts while the pipeline is imported, its setup read or the
        # demo written (pipelines/prefect_api.py); it is stopped at exit, also after a wrong setup.
        prefect_api.start()
    if runs_flows:
        lifecycle.start_orphan_guard()
    from pipelines.config import ConfigError, load_config

    if args.command not in ("run", "demo"):
        _imports_done()  # a daily run's imports go on until its flow starts (_run)

    try:
        if args.command == "config":
            return _config_command(args)
        if args.command == "demo":
            config_path = _generate_demo(args.root.resolve(), args.seed)
            if args.generate_only:
                return 0
            return _run(load_config(config_path), None, args.dask_address)
        if args.command == "init":
            return _init(args)
        config = load_config(args.config)
        if args.command == "replay":
            return _replay(config, args)
        if args.command == "run":
            return _run(config, args.date, args.dask_address, output=args.output, republish=args.republish)
        if args.command == "outlook":
            return _outlook(config, args.date, args.horizon_days, args.dask_address)
        if args.command == "bulletin":
            return _bulletin(config, args.date)
        if args.forget is not None:
            return _forget(config, args.forget)
        return _ingest(config, args.source)
    except ConfigError as exc:
        print(f"droogte: configuration error: {exc}", file=sys.stderr)
        return 2
    except lifecycle.Stopped as exc:
        print(f"droogte: {exc}; the published site and the stored data are as the last complete step "
              "left them", file=sys.stderr)
        return 128 + exc.signum
    except prefect_api.TemporaryApiError as exc:
        print(f"droogte: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _config_command(args: argparse.Namespace) -> int:
    """``droogte config check|schema|reference``: nothing runs, nothing is written."""
    import json

    from pipelines.config import load_config
    from pipelines.config_reference import json_schema, markdown_reference

    if args.config_command in ("schema", "reference"):
        text = (json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n" if args.config_command == "schema"
                else markdown_reference())
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `droogte config schema | head`: the reader had enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
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


def _init(args) -> int:
    from pipelines.setup_init import InitError, init_setup

    try:
        report = init_setup(args.out, data=args.data, boards=args.boards, districts_file=args.districts,
                            id_column=args.id_column, name_column=args.name_column, board_column=args.board_column,
                            name=args.name, min_district_km2=args.min_district_km2,
                            stations_per_district=args.stations_per_district)
    except InitError as exc:
        print(f"droogte init: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    print(f"next: droogte run --config {report.config} --date YYYY-MM-DD")
    return 0


def _replay(config, args) -> int:
    from pipelines.replay import replay_season

    if args.last < args.first:
        print("droogte replay: --to is before --from", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(f"[droogte] replay of setup {config.name!r} from {args.first} to {args.last}", flush=True)
    result = replay_season(config, args.first, args.last, out=args.out, outlook_every=args.outlook_every)
    print(f"[droogte] replay finished in {time.perf_counter() - started:.1f} s", flush=True)
    for label, path in result.items():
        print(f"  {label:<14} {path}")
    return 0


def _run(config, date: dt.date | None, dask_address: str | None, *, output: Path | None = None,
         republish: bool = False) -> int:
    from dashboards import chart_worker
    from pipelines import prefect_api
    from pipelines.daily_run import drought_run, import_stages
    from pipelines.ingest.files import read_ahead
    from pipelines.outcome import ExitCode, Outcome, exit_code_of_state

    day = date or config.date or dt.date.today()
    started = time.perf_counter()
    where = f" into {output}" if output else ""
    print(f"[droogte] daily run of setup {config.name!r} for {day.isoformat()}{where}", flush=True)
    # The source files are parsed in a forked child from here on, on the core that Prefect and
    # the stages leave free; the ingest tasks take the results (pipelines/ingest/prefetch.py).
    # Forked after the pipeline's imports, not before them: the run's own imports then took
    # about 1 s longer against a running server (measured A/B on a quiet machine).
    read_ahead(config)
    # The charts are drawn in a forked process as well, beside the pages (dashboards/chart_worker.py).
    chart_worker.start()
    prefect_api.wait(meanwhile=import_stages)
    _imports_done()
    with prefect_api.flow_settings():
        state = drought_run(config_path=str(config.path), date=day.isoformat(), dask_address=dask_address,
                            output=None if output is None else str(output.resolve()), republish=republish,
                            config=config, return_state=True)
    code = exit_code_of_state(state)
    result = state.result(raise_on_failure=False)
    print(f"[droogte] finished in {time.perf_counter() - started:.1f} s: {state.name}", flush=True)
    if isinstance(result, dict):
        if result.get("outputs") and result.get("data_day") and result["data_day"] != day.isoformat():
            print(f"  decisions computed with data up to {result['data_day']}, carried to {day.isoformat()}")
        for label, path in result.get("outputs", {}).items():
            print(f"  {label:<14} {path}")
        outcome = Outcome.from_dict(result.get("outcome") or {})
        for problem in outcome.problems:
            print(f"  {problem.code.name:<9} {problem}", file=sys.stderr)
    elif code == ExitCode.FAILED:
        print(f"droogte: the run failed: {state.message}", file=sys.stderr)
    print(f"[droogte] exit code {int(code)} ({code.name})", flush=True)
    return int(code)


def _outlook(config, date: dt.date | None, horizon_days: int | None, dask_address: str | None) -> int:
    from pipelines import prefect_api
    from pipelines.outlook_run import outlook_run

    day = date or config.date or dt.date.today()
    print(f"[droogte] outlook of setup {config.name!r} from {day.isoformat()}", flush=True)
    prefect_api.wait()
    with prefect_api.flow_settings():
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
    from pipelines import prefect_api
    from pipelines.ingest import flows as ingest

    flows = {"all": ingest.ingest_all, "meteo": ingest.ingest_meteo,
             "groundwater": ingest.ingest_groundwater, "sensors": ingest.ingest_sensors}
    prefect_api.wait()
    with prefect_api.flow_settings():
        report = flows[source](config=config)
    print(report if isinstance(report, str) else _format_report(report))
    return _ingest_status(report)


#: Exit status of ``droogte ingest`` (the codes of ``pipelines/outcome.py``): everything
#: stored; some file (or service) failed and the rest was stored; a whole source failed.
EXIT_OK, EXIT_FAILED, EXIT_DEGRADED = 0, 1, 3  # ExitCode.OK, .FAILED, .DEGRADED of pipelines/outcome.py


def _ingest_status(report) -> int:
    """0 when every file was stored, 3 when a file failed and the rest was stored (each failed
    file is listed on stderr with its reason), 1 when a source failed as a whole."""
    reports = report.values() if isinstance(report, dict) else [report]
    failed_sources = [r for r in reports if isinstance(r, str)]
    failed_files = [f for r in reports if not isinstance(r, str) for f in r.failed_files]
    for failed in failed_files:
        print(f"[droogte] not ingested: {failed}", file=sys.stderr)
    if failed_sources:
        return EXIT_FAILED
    return EXIT_DEGRADED if failed_files else EXIT_OK


def _forget(config, path: Path) -> int:
    from pipelines.ingest.forget import forget_file

    try:
        record = forget_file(config, path)
    except (ValueError, FileNotFoundError) as exc:
        print(f"droogte: cannot forget: {exc}", file=sys.stderr)
        return 2
    print(f"[droogte] forgot {record['path']}: " + ", ".join(f"{t} -{n}" for t, n in record["rows_removed"].items()))
    if record["still_configured"]:
        print(f"droogte: {path} is still in the configuration {config.path}; the next ingest reads it "
              "again unless you remove it there", file=sys.stderr)
    return 0


def _format_report(report) -> str:
    lines = []
    for source, summary in (report.items() if isinstance(report, dict) else [("result", report)]):
        lines.append(f"  {source:<12} {summary}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(entry())
