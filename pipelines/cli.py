"""`warehouse`: a thin command line over the Dagster definitions (not a second orchestrator)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from pathlib import Path

from pipelines import runstate
from pipelines.settings import REPO_ROOT, ConfigError, Settings, load_settings, raw_export_files


class InstanceError(RuntimeError):
    """The Dagster instance under WAREHOUSE_HOME/dagster cannot be opened."""


def prepare_instance(settings: Settings) -> None:
    """Point DAGSTER_HOME at WAREHOUSE_HOME/dagster, with the repo's dagster.yaml in it, and
    create the instance's storages there once, under a lock: two processes creating the sqlite
    schemas of a fresh home at the same time break them (issue 14)."""
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
                f"{settings.dagster_home}.broken) and run again.") from exc


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if next(raw_export_files(settings.raw_dir), None) is None:
        print(f"nothing to load: no files under {settings.raw_dir}")
        return 0
    run_id = str(uuid.uuid4())
    settings.ensure_dirs()

    def waiting(holder: runstate.Holder | None) -> None:
        print(f"{runstate.busy_message(holder)}; waiting for it to finish "
              f"(--no-wait exits instead)", flush=True)

    try:
        lock = runstate.acquire_writer(settings.home, run_id=run_id, command="warehouse run",
                                       wait=not args.no_wait, on_wait=waiting)
    except runstate.LockBusy as busy:
        print(f"{busy}; not starting another one (--no-wait). Try again when it has "
              f"finished, or run without --no-wait to wait for it.", file=sys.stderr)
        return runstate.EX_TEMPFAIL
    # The writer lock is held from before the Dagster instance is created until the summary
    # is computed: the next refresh cannot lock the database the summary reads.
    with lock:
        prepare_instance(settings)
        from dagster import DagsterInstance

        from pipelines.definitions import defs
        from pipelines.summary import run_summary

        job = defs.resolve_job_def("nightly_refresh")
        with DagsterInstance.get() as instance:
            result = job.execute_in_process(instance=instance, run_id=run_id,
                                            raise_on_error=False)
        summary, ok = run_summary(settings, result)
    print(summary)
    return 0 if (result.success and ok) else 1


def cmd_status(args: argparse.Namespace) -> int:
    from pipelines.summary import status_report

    print(status_report(load_settings()))
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

    settings = load_settings()
    try:
        version = rollback(settings.published_dir, args.version)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"catalog now points at snapshot {version}, pinned: nightly runs still land, build "
          f"and validate but do not publish until `warehouse release`")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from pipelines.publish import PublishError, release

    settings = load_settings()
    try:
        pin = release(settings.published_dir)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if pin is None:
        print("nothing is pinned: nightly runs publish as usual")
    else:
        print(f"released the pin on version {pin.get('version')} (set by a rollback at "
              f"{pin.get('at')}); BI reads it until the next run publishes a new version")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    prepare_instance(load_settings())
    dagster = Path(sys.executable).with_name("dagster")
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest  # `warehouse dev -- -p 3001`
    os.execv(str(dagster), [str(dagster), "dev", "-m", "pipelines.definitions", *rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the nightly job on WAREHOUSE_RAW_DIR")
    run.add_argument("--no-wait", action="store_true",
                     help="if another refresh is running, exit at once (code 75) instead of "
                          "waiting for it")
    run.set_defaults(func=cmd_run)
    sub.add_parser("status", help="ledger summary and last publish").set_defaults(
        func=cmd_status
    )
    gen = sub.add_parser("generate", help="write messy synthetic exports and truth.json")
    gen.add_argument("--out", required=True)
    gen.add_argument("--stations", type=int, default=5)
    gen.add_argument("--days", type=int, default=7)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--scenario", choices=["yuncheng-2022"])
    gen.set_defaults(func=cmd_generate)
    rb = sub.add_parser("rollback", help="point the catalog back at a kept snapshot and pin it")
    rb.add_argument("version", nargs="?")
    rb.set_defaults(func=cmd_rollback)
    sub.add_parser("release", help="remove a rollback's pin: the next run publishes again"
                   ).set_defaults(func=cmd_release)
    dev = sub.add_parser("dev", help="the Dagster UI with this code location")
    dev.add_argument("rest", nargs=argparse.REMAINDER)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
