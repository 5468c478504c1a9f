"""Contenders (c) and (d): the project's nightly job, in process, exactly as `warehouse run`.

Same path as `pipelines.cli.cmd_run` (settings from the environment, the Dagster instance
under WAREHOUSE_HOME, `pipelines.definitions.defs`, `execute_in_process`, the run summary),
with timing around each part. Step times come from the run's own STEP_START / STEP_SUCCESS
(or STEP_FAILURE) events in the instance's event log; dbt's own per-node timings from the
run_results.json of the dbt invocation.

    python -m bench.nightly --raw DIR --home DIR [--result FILE] [--instance ephemeral]
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

BENCH_PII_KEY = "bench-pii-key-not-secret"

STAGES = (  # step key fragment -> stage (first match wins)
    ("land", "landing"),
    ("quarantine", "quarantine sync"),
    ("dbt", "dbt"),
    ("validate", "checks"),
    ("check", "checks"),
    ("publish", "publish"),
)


def stage_of(step_key: str) -> str:
    key = step_key.lower()
    return next((stage for frag, stage in STAGES if frag in key), f"other: {step_key}")


def step_times(instance, run_id: str) -> tuple[dict[str, dict], dict[str, float]]:
    """{step_key: {start, end, seconds, status}} and the run's start/end wall clock."""
    from dagster import DagsterEventType as E

    steps: dict[str, dict] = {}
    run: dict[str, float] = {}
    entries = instance.all_logs(run_id)
    if entries:
        run["first_event"], run["last_event"] = entries[0].timestamp, entries[-1].timestamp
        run["events"] = len(entries)
        kinds: dict[str, list[float]] = {}
        for entry in entries:
            if entry.dagster_event is not None:
                kinds.setdefault(entry.dagster_event.event_type_value, []).append(entry.timestamp)
        run["event_types"] = {
            k: [
                len(v),
                round(v[0] - entries[0].timestamp, 3),
                round(v[-1] - entries[0].timestamp, 3),
            ]
            for k, v in kinds.items()
        }
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == E.RUN_START:
            run["start"] = entry.timestamp
        elif kind in (E.RUN_SUCCESS, E.RUN_FAILURE):
            run["end"] = entry.timestamp
        elif entry.step_key and kind == E.STEP_START:
            steps.setdefault(entry.step_key, {})["start"] = entry.timestamp
        elif entry.step_key and kind in (E.STEP_SUCCESS, E.STEP_FAILURE):
            step = steps.setdefault(entry.step_key, {})
            step["end"] = entry.timestamp
            step["status"] = "success" if kind == E.STEP_SUCCESS else "failure"
        elif entry.step_key and kind == E.STEP_SKIPPED:
            steps.setdefault(entry.step_key, {})["status"] = "skipped"
    for step in steps.values():
        if "start" in step and "end" in step:
            step["seconds"] = step["end"] - step["start"]
    return steps, run


def dbt_run_results(target: Path, since: float) -> dict | None:
    """The newest run_results.json written during this run (dagster-dbt may use a sub-target)."""
    if not target.is_dir():
        return None
    found = [p for p in target.rglob("run_results.json") if p.stat().st_mtime >= since]
    if not found:
        return None
    data = json.loads(max(found, key=lambda p: p.stat().st_mtime).read_text())
    nodes = sorted(data.get("results", []), key=lambda r: -(r.get("execution_time") or 0))
    return {
        "elapsed": data.get("elapsed_time"),
        "nodes": len(nodes),
        "node_seconds": sum(r.get("execution_time") or 0 for r in nodes),
        "slowest": [
            (r.get("unique_id"), round(r.get("execution_time") or 0, 3)) for r in nodes[:8]
        ],
    }


def ledger_rows(duckdb_path: Path, run_id: str) -> dict[str, int] | None:
    import duckdb

    if not duckdb_path.exists():
        return None
    try:
        with duckdb.connect(str(duckdb_path), read_only=True) as conn:
            rows = conn.execute(
                "SELECT record_type, coalesce(sum(rows_read), 0), count(*) FROM ops.file_ledger "
                "WHERE run_id = $run_id GROUP BY ALL",
                {"run_id": run_id},
            ).fetchall()
    except Exception:  # noqa: BLE001 - the bench reports what it can
        return None
    return {rt: int(n) for rt, n, _ in rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--result", type=Path)
    parser.add_argument(
        "--instance",
        choices=("persistent", "ephemeral"),
        default="persistent",
        help="persistent: sqlite under WAREHOUSE_HOME, as `warehouse run`",
    )
    args = parser.parse_args(argv)
    os.environ["WAREHOUSE_RAW_DIR"] = str(args.raw.resolve())
    os.environ["WAREHOUSE_HOME"] = str(args.home.resolve())
    os.environ.setdefault("WAREHOUSE_PII_KEY", BENCH_PII_KEY)
    # the night's files were written just before: measure the work, not the settle interval
    # a refresh would wait for files younger than WAREHOUSE_SETTLE_SECONDS
    os.environ.setdefault("WAREHOUSE_SETTLE_SECONDS", "0")

    phases: dict[str, float] = {}
    t = time.perf_counter()
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    import pipelines.defs.checks
    import pipelines.defs.dbt as defs_dbt
    import pipelines.defs.landing
    import pipelines.defs.publish
    import pipelines.defs.quarantine
    import pipelines.defs.resources
    import pipelines.defs.schedules
    import pipelines.defs.sensors  # noqa: F401
    from pipelines.cli import prepare_instance
    from pipelines.settings import load_settings
    from pipelines.summary import run_summary

    phases["imports"] = time.perf_counter() - t

    parse: dict[str, object] = {"seconds": 0.0, "parsed": False}
    original = defs_dbt.WarehouseProjectPreparer.prepare

    def timed_prepare(self, project):  # called only when the manifest is made anew
        t0 = time.perf_counter()
        try:
            return original(self, project)
        finally:
            parse["seconds"] = float(parse["seconds"]) + time.perf_counter() - t0
            parse["parsed"] = True

    defs_dbt.WarehouseProjectPreparer.prepare = timed_prepare

    t = time.perf_counter()
    settings = load_settings()
    prepare_instance(settings)
    from pipelines.definitions import defs

    job = defs.resolve_job_def("nightly_refresh")
    phases["definitions"] = time.perf_counter() - t - float(parse["seconds"])
    phases["dbt_parse"] = float(parse["seconds"])

    t = time.perf_counter()
    from dagster import DagsterInstance

    ephemeral = args.instance == "ephemeral"
    instance = DagsterInstance.ephemeral() if ephemeral else DagsterInstance.get()
    phases["instance"] = time.perf_counter() - t
    startup = time.perf_counter() - T_START

    wall_before_run = time.time()
    t = time.perf_counter()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    phases["job"] = time.perf_counter() - t
    wall_after_run = time.time()

    t = time.perf_counter()
    summary, ok = run_summary(settings, result)
    phases["summary"] = time.perf_counter() - t

    steps, run = step_times(instance, result.run_id)
    instance.dispose()
    stages: dict[str, float] = {}
    for key, step in steps.items():
        if "seconds" in step:
            stages[stage_of(key)] = stages.get(stage_of(key), 0.0) + step["seconds"]
    rows_by_type = ledger_rows(settings.duckdb_path, result.run_id)
    out = {
        "contender": "nightly",
        "success": bool(result.success),
        "checks_ok": bool(ok),
        "run_id": result.run_id,
        "startup": startup,
        "phases": phases,
        "dbt_parse_ran": parse["parsed"],
        "steps": steps,
        "stages": stages,
        "dagster_overhead": phases["job"] - sum(stages.values()),
        # the job call outside the run's RUN_START..RUN_SUCCESS window, and inside it between steps
        "dagster_before_run": run["start"] - wall_before_run if "start" in run else None,
        "dagster_after_run": wall_after_run - run["end"] if "end" in run else None,
        "run_window": run,
        "dbt": dbt_run_results(
            getattr(settings, "dbt_target_dir", None) or settings.dbt_project_dir / "target",
            wall_before_run,
        ),
        "rows": sum(rows_by_type.values()) if rows_by_type else None,
        "rows_by_type": rows_by_type,
        "summary": summary,
    }
    text = json.dumps(out, ensure_ascii=False, indent=1, default=str)
    if args.result:
        args.result.write_text(text)
    print(summary)
    return 0 if (result.success and ok) else 1


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
