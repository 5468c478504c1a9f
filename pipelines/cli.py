"""`warehouse`: a thin command line over the Dagster definitions (not a second orchestrator).

warehouse run [--no-wait] [--verbose]     the nightly job, in process, through Dagster
warehouse status                          runs, failed files, unknown spellings, publish
warehouse quarantine [--reason R] [--station S] [--file PATH] [--limit N]
warehouse versions                        kept snapshots, the current one marked
warehouse rollback [VERSION]              point BI at a kept snapshot and pin it there
warehouse release                         let nightly runs publish again after a rollback
warehouse generate --out DIR ...          messy synthetic exports and their truth
warehouse dev [--port P] [--host H]       the Dagster UI (dagster dev)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import traceback
import uuid
from pathlib import Path

from pipelines import runstate
from pipelines.settings import REPO_ROOT, ConfigError, Settings, load_settings, raw_export_files

# Dagster's own console logger stays quiet in `warehouse run`: the run log file has it all
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
EXIT_FAILED = 1
EXIT_USAGE = 2


class InstanceError(RuntimeError):
    """The Dagster instance under WAREHOUSE_HOME/dagster cannot be opened."""


def prepare_instance(settings: Settings) -> None:
    """Point DAGSTER_HOME at WAREHOUSE_HOME/dagster, with the repo's dagster.yaml in it, and
    create the instance's storages there once, under a lock: two processes creating the sqlite
    schemas of a fresh home at the same time break them."""
    settings.ensure_dirs()
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    with runstate.instance_init_lock(settings.dagster_home):
        target = settings.dagster_home / "dagster.yaml"
        source = REPO_ROOT / "dagster.yaml"
        if not target.exists() or target.read_bytes() != source.read_bytes():
            tmp = target.with_name(f".dagster.yaml.{os.getpid()}.tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)  # a reader sees the old or the new file, never half
        from dagster import DagsterInstance

        try:
            with DagsterInstance.get() as instance:  # creates or migrates the storages
                instance.get_runs(limit=1)
                instance.all_instigator_state()
        except Exception as exc:
            if runstate.is_disk_full(exc):
                raise
            raise InstanceError(
                f"the Dagster instance in {settings.dagster_home} cannot be opened "
                f"({type(exc).__name__}: {str(exc).strip().splitlines()[0]}). It holds only "
                f"Dagster's run history: move it aside (mv {settings.dagster_home} "
                f"{settings.dagster_home}.broken) and run again."
            ) from exc


def _print_err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if next(raw_export_files(settings.raw_dir), None) is None:
        print(f"nothing to load: no files under {settings.raw_dir}")
        return 0
    from pipelines.summary import disk_full_text, previous_version_text

    run_id = str(uuid.uuid4())
    try:
        settings.ensure_dirs()
    except OSError as exc:
        _print_err(f"error: cannot prepare {settings.home}: {exc}")
        if runstate.is_disk_full(exc):
            _print_err(disk_full_text(settings, exc) + "\n" + previous_version_text(settings))
        return EXIT_FAILED

    def waiting(holder: runstate.Holder | None) -> None:
        print(
            f"{runstate.busy_message(holder)}; waiting for it to finish (--no-wait exits instead)",
            flush=True,
        )

    try:
        lock = runstate.acquire_writer(
            settings.home,
            run_id=run_id,
            command="warehouse run",
            wait=not args.no_wait,
            on_wait=waiting,
        )
    except runstate.LockBusy as busy:
        _print_err(
            f"{busy}; not starting another one (--no-wait). Try again when it has "
            f"finished, or run without --no-wait to wait for it."
        )
        return runstate.EX_TEMPFAIL
    with lock:
        return _run_locked(settings, run_id, verbose=args.verbose)


def _run_locked(settings: Settings, run_id: str, *, verbose: bool) -> int:
    """The job and its summary, under the writer lock (held until the summary is computed, so
    the next refresh cannot lock the database the summary reads)."""
    from pipelines import runlog
    from pipelines.progress import StageProgress, captured_output
    from pipelines.summary import run_summary

    log_path = settings.logs_dir / f"{run_id}.log"
    print(f"run {run_id}: raw {settings.raw_dir} -> home {settings.home}", flush=True)
    print(f"full log: {log_path}", flush=True)
    result, error = None, None
    try:
        with captured_output(log_path, verbose=verbose) as term:
            progress = StageProgress(term)
            try:
                prepare_instance(settings)
                from dagster import DagsterInstance

                from pipelines.definitions import defs

                job = defs.resolve_job_def("nightly_refresh")
                with DagsterInstance.get() as instance, runlog.listening(progress):
                    if verbose:
                        with runlog.listening(lambda r: _echo(term, r)):
                            result = job.execute_in_process(
                                instance=instance,
                                run_id=run_id,
                                raise_on_error=False,
                                run_config=QUIET_CONSOLE,
                            )
                    else:
                        result = job.execute_in_process(
                            instance=instance,
                            run_id=run_id,
                            raise_on_error=False,
                            run_config=QUIET_CONSOLE,
                        )
            except Exception as exc:  # reported below in plain words; the trace goes to the log
                error = exc
                traceback.print_exc()  # fd 2 is the run log here
            finally:  # no dbt outlives its run, holding the database the summary reads
                from pipelines.defs.dbt import stop_running_dbt

                stop_running_dbt()
    except OSError as exc:  # the log itself could not be set up (e.g. a full disk)
        error = error or exc
    summary, ok = run_summary(settings, result, run_id=run_id, log_path=log_path, error=error)
    print(summary, flush=True)
    with contextlib.suppress(OSError):
        runstate.update_status(
            settings.home,
            run_id=run_id,
            verdict=summary.splitlines()[0].split(": ", 1)[-1],
            finished_at=runstate.now_iso(),
            log=str(log_path),
        )
    return 0 if (result is not None and result.success and ok and error is None) else EXIT_FAILED


def _echo(term, record) -> None:
    from pipelines.runlog import format_record

    try:
        term.write(format_record(record))
        term.flush()
    except (OSError, ValueError):
        pass


def cmd_status(args: argparse.Namespace) -> int:
    from pipelines.summary import status_report

    print(status_report(load_settings(needs_pii_key=False)))
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from pipelines.summary import quarantine_report

    settings = load_settings(needs_pii_key=False)
    try:
        text = quarantine_report(
            settings, reason=args.reason, station=args.station, file=args.file, limit=args.limit
        )
    except runstate.LockBusy as busy:
        _print_err(
            f"{busy}: the working database cannot be read while it is written. "
            f"Try again when it has finished (`warehouse status` works meanwhile)."
        )
        return runstate.EX_TEMPFAIL
    print(text)
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from pipelines.summary import versions_report

    print(versions_report(load_settings(needs_pii_key=False)))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.generate import generate_corpus, generate_scenario

    out = Path(args.out)
    if args.scenario:
        truth = generate_scenario(args.scenario, out)
    else:
        truth = generate_corpus(out, stations=args.stations, days=args.days, seed=args.seed)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    print(f"wrote {files} files under {out} (truth: {out / 'truth.json'})")
    return 0 if truth is not None else 1


def cmd_rollback(args: argparse.Namespace) -> int:
    from pipelines.publish import PublishError, rollback

    settings = load_settings(needs_pii_key=False)
    try:
        version = rollback(settings.published_dir, args.version)
    except PublishError as exc:
        _print_err(f"error: {exc}")
        return EXIT_FAILED
    print(
        f"catalog now points at snapshot {version}, pinned: nightly runs still land, build "
        f"and validate but do not publish until `warehouse release`"
    )
    return 0


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def cmd_bulletin(args: argparse.Namespace) -> int:
    from pipelines.bulletin import BulletinError, write_bulletin

    settings = load_settings(needs_pii_key=False)
    try:
        out = write_bulletin(
            settings.published_dir,
            args.campaign,
            args.unit,
            period=args.period,
            start=args.start,
            end=args.end,
            out_dir=Path(args.out).resolve(),
            pdf=args.pdf,
        )
    except BulletinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out.headline)
    print(f"bulletin (published version {out.version}): {out.files.html}")
    print(f"headline as plain text: {out.files.text}")
    for warning in out.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.pdf:
        if out.pdf is None:
            print(out.pdf_problem, file=sys.stderr)
            return 3
        print(f"pdf: {out.pdf}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from pipelines.publish import PublishError, release

    settings = load_settings(needs_pii_key=False)
    try:
        pin = release(settings.published_dir)
    except PublishError as exc:
        _print_err(f"error: {exc}")
        return EXIT_FAILED
    if pin is None:
        print("nothing is pinned: nightly runs publish as usual")
    else:
        print(
            f"released the pin on version {pin.get('version')} (set by a rollback at "
            f"{pin.get('at')}); BI reads it until the next run publishes a new version"
        )
    return 0


def dev_command(args: argparse.Namespace) -> list[str]:
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-m", "pipelines.definitions"]
    if args.port is not None:
        command += ["--port", str(args.port)]
    if args.host is not None:
        command += ["--host", args.host]
    if args.log_level is not None:
        command += ["--log-level", args.log_level]
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    return command + list(rest)


def cmd_dev(args: argparse.Namespace) -> int:
    prepare_instance(load_settings())
    command = dev_command(args)
    os.execv(command[0], command)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warehouse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run the nightly job on WAREHOUSE_RAW_DIR",
        description="Land, build, validate and publish, through Dagster in this process. "
        "Prints one line per stage and a summary; Dagster's and dbt's full logs "
        "go to WAREHOUSE_HOME/logs/<run id>.log. Refreshes run one at a time: "
        "a second one waits for the first.",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="if another refresh is running, exit at once (code 75) instead of waiting for it",
    )
    run.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also stream the full Dagster and dbt logs to the terminal",
    )
    run.set_defaults(func=cmd_run)
    sub.add_parser(
        "status",
        help="runs, failed files, unknown spellings and the published version",
        description="Works while a refresh runs (it then shows the state at the end of the "
        "previous run and says since when the refresh is running).",
    ).set_defaults(func=cmd_status)
    quarantine = sub.add_parser(
        "quarantine",
        help="rejected rows: file, sheet, line, reason, message",
        description="Rows set aside by landing or held back by the models (ops.quarantine). "
        "Reads the working database: refuses (code 75) while a refresh writes it.",
    )
    quarantine.add_argument("--reason", help="a reason code, e.g. bad_date, unknown_station")
    quarantine.add_argument(
        "--station",
        help="rows whose file path or raw values mention this text (e.g. a station name)",
    )
    quarantine.add_argument(
        "--file", help="rows of this file (path under the raw dir, or part of it)"
    )
    quarantine.add_argument("--limit", type=int, default=50, help="rows shown (default 50)")
    quarantine.set_defaults(func=cmd_quarantine)
    sub.add_parser(
        "versions",
        help="kept snapshots: action, run, row counts; the current one marked",
    ).set_defaults(func=cmd_versions)
    gen = sub.add_parser("generate", help="write messy synthetic exports and truth.json")
    gen.add_argument("--out", required=True)
    gen.add_argument("--stations", type=int, default=5)
    gen.add_argument("--days", type=int, default=7)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--scenario", choices=["yuncheng-2022"])
    gen.set_defaults(func=cmd_generate)
    rb = sub.add_parser(
        "rollback",
        help="point BI back at a kept snapshot and pin it there",
        description="Points latest.json and the catalog at a kept snapshot (default: the one "
        "before the current one) and pins it: nightly runs go on landing, building "
        "and validating but publish nothing until `warehouse release`.",
    )
    rb.add_argument("version", nargs="?")
    rb.set_defaults(func=cmd_rollback)
    bul = sub.add_parser(
        "bulletin",
        help="write a campaign bulletin (通报) from the published catalog",
        description="Write a bulletin for a unit and period as one self-contained HTML file "
        "and its headline paragraph as plain text, from the published catalog "
        "only. Exit 2 on bad input, 3 when --pdf could not print.",
    )
    bul.add_argument("--campaign", required=True, help="campaign id (marts.dim_campaign)")
    bul.add_argument(
        "--unit",
        help="city, bureau or station name (or station id); default: "
        "the campaign's city when it has one",
    )
    bul.add_argument(
        "--period",
        choices=["first-month", "last-week", "whole"],
        help="default: whole (from the start to the last day with records)",
    )
    bul.add_argument("--from", dest="start", type=_day, metavar="DATE")
    bul.add_argument("--to", dest="end", type=_day, metavar="DATE")
    bul.add_argument("--out", default=".", help="folder for the files (default: .)")
    bul.add_argument(
        "--pdf", action="store_true", help="also print it to PDF with headless Chromium"
    )
    bul.set_defaults(func=cmd_bulletin)
    sub.add_parser(
        "release",
        help="remove a rollback's pin: the next run publishes again",
    ).set_defaults(func=cmd_release)
    dev = sub.add_parser(
        "dev",
        help="the Dagster UI with this code location (dagster dev)",
        description="Starts `dagster dev -m pipelines.definitions` with the instance in "
        "WAREHOUSE_HOME/dagster: the UI, the nightly schedule and the raw-file "
        "sensor (which launches a refresh only when a raw file changed since the "
        "last run). Arguments after `--` go to `dagster dev` unchanged.",
        epilog="example: warehouse dev --port 3001 --host 0.0.0.0 -- --live-data-poll-rate 5000",
    )
    dev.add_argument("--port", "-p", type=int, help="the UI's port (dagster dev's default 3000)")
    dev.add_argument(
        "--host", help="the address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"
    )
    dev.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        help="dagster dev's own log level",
    )
    dev.add_argument(
        "rest", nargs=argparse.REMAINDER, help="after `--`: more `dagster dev` options"
    )
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        _print_err(f"error: {exc}")
        return EXIT_USAGE
    except InstanceError as exc:
        _print_err(f"error: {exc}")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
