"""`warehouse`: a thin command line over the Dagster definitions (not a second orchestrator)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from pipelines.settings import REPO_ROOT, ConfigError, Settings, load_settings, raw_export_files


def prepare_instance(settings: Settings) -> None:
    """Point DAGSTER_HOME at WAREHOUSE_HOME/dagster, with the repo's dagster.yaml in it."""
    settings.ensure_dirs()
    target = settings.dagster_home / "dagster.yaml"
    source = REPO_ROOT / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if next(raw_export_files(settings.raw_dir), None) is None:
        print(f"nothing to load: no files under {settings.raw_dir}")
        return 0
    prepare_instance(settings)
    from dagster import DagsterInstance

    from pipelines.definitions import defs
    from pipelines.summary import run_summary

    job = defs.resolve_job_def("nightly_refresh")
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
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
    print(f"catalog now points at snapshot {version}")
    return 0


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def cmd_bulletin(args: argparse.Namespace) -> int:
    from pipelines.bulletin import BulletinError, write_bulletin

    settings = load_settings()
    try:
        out = write_bulletin(settings.published_dir, args.campaign, args.unit,
                             period=args.period, start=args.start, end=args.end,
                             out_dir=Path(args.out).resolve(), pdf=args.pdf)
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


def cmd_dev(args: argparse.Namespace) -> int:
    prepare_instance(load_settings())
    dagster = Path(sys.executable).with_name("dagster")
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest  # `warehouse dev -- -p 3001`
    os.execv(str(dagster), [str(dagster), "dev", "-m", "pipelines.definitions", *rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the nightly job on WAREHOUSE_RAW_DIR").set_defaults(
        func=cmd_run
    )
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
    rb = sub.add_parser("rollback", help="point the catalog back at a kept snapshot")
    rb.add_argument("version", nargs="?")
    rb.set_defaults(func=cmd_rollback)
    bul = sub.add_parser(
        "bulletin", help="write a campaign bulletin (通报) from the published catalog",
        description="Write a bulletin for a unit and period as one self-contained HTML file "
                    "and its headline paragraph as plain text, from the published catalog "
                    "only. Exit 2 on bad input, 3 when --pdf could not print.")
    bul.add_argument("--campaign", required=True, help="campaign id (marts.dim_campaign)")
    bul.add_argument("--unit", help="city, bureau or station name (or station id); default: "
                                    "the campaign's city when it has one")
    bul.add_argument("--period", choices=["first-month", "last-week", "whole"],
                     help="default: whole (from the start to the last day with records)")
    bul.add_argument("--from", dest="start", type=_day, metavar="DATE")
    bul.add_argument("--to", dest="end", type=_day, metavar="DATE")
    bul.add_argument("--out", default=".", help="folder for the files (default: .)")
    bul.add_argument("--pdf", action="store_true", help="also print it to PDF with headless "
                                                        "Chromium")
    bul.set_defaults(func=cmd_bulletin)
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


if __name__ == "__main__":
    sys.exit(main())
