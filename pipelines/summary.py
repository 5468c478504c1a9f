"""What `warehouse run`, `status`, `quarantine` and `versions` print.

The run summary is computed by `warehouse run` while it still holds the writer lock, so it may
read the working database. `status` never waits: while a refresh holds the lock it shows the
snapshot the previous run wrote (``WAREHOUSE_HOME/status.json``) and says since when the
refresh is running; otherwise it reads the database (holding the lock shared meanwhile).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from pipelines import runstate
from pipelines.settings import RECORD_TYPES, Settings

MAX_FILES_LISTED = 20


# -- shared pieces ----------------------------------------------------------------------------


def latest_publish(settings: Settings) -> dict | None:
    from pipelines.runstate import read_json

    data = read_json(settings.published_dir / "latest.json")
    return data if isinstance(data, dict) else None


def read_pin(settings: Settings) -> dict | None:
    from pipelines.publish.pin import read_pin as read

    return read(settings.published_dir)


def _when(iso: str | None) -> str:
    if not iso:
        return "an unknown time"
    from datetime import datetime

    try:
        stamp = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if stamp.tzinfo is None:
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def shown_path(path: Path) -> str:
    """A path relative to the current directory when it is below it (shorter to read)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def previous_version_text(settings: Settings) -> str:
    latest = latest_publish(settings)
    if not latest:
        return "nothing was published before: BI has no version yet"
    return f"the previous version is still published: BI reads version {latest.get('version')}"


def _path_in(text: str) -> str | None:
    """The first absolute path in an error message whose folder exists (not a URL)."""
    candidates = re.findall(r"[\"'](/[^\"']+)[\"']", text) + re.findall(
        r"(?<![\w:/])(/[^\s\"',:)]+)", text
    )
    for candidate in candidates:
        if Path(candidate).parent.is_dir():
            return candidate
    return None


def _file_size_limit() -> int | None:
    """This process's RLIMIT_FSIZE (`ulimit -f`) in bytes, None when unlimited."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


def disk_full_text(settings: Settings, error: BaseException | str | None) -> str:
    """Names what could not be written and where the space ran out."""
    text = str(error or "")
    path = _path_in(text)
    where = settings.home
    if path is None and "sqlite" in text.lower():
        path = f"{settings.dagster_home} (Dagster's run storage)"
    written = f" writing {path}" if path else ""
    limit = _file_size_limit()
    if limit is not None and ("too large" in text.lower() or "i/o error" in text.lower()):
        return (
            f"FILE SIZE LIMIT{written}: a file under {where} would grow beyond this "
            f"process's file size limit (ulimit -f: {limit:,} bytes). Raise the limit and "
            f"run again: the next run picks up where this one stopped."
        )
    try:
        free = shutil.disk_usage(where).free
        free_text = f"{free / 2**20:,.1f} MB free there now"
    except OSError:
        free_text = "free space unknown"
    return (
        f"DISK FULL{written}: no space left on the filesystem of {where} ({free_text}). "
        f"Free some space and run again: the next run picks up where this one stopped."
    )


def disk_full_cause(settings: Settings, errors) -> BaseException | str | None:
    """The first error that says a write found no space. sqlite sometimes reports a full disk
    (and always a file size limit) as a plain "disk I/O error": that counts too when the
    warehouse's filesystem is (nearly) full now, or a file size limit is set."""
    errors = [e for e in errors if e]
    for error in errors:
        if runstate.is_disk_full(error):
            return error
    try:
        nearly_full = shutil.disk_usage(settings.home).free < 2 * 2**20
    except OSError:
        nearly_full = False
    if nearly_full or _file_size_limit() is not None:
        for error in errors:
            if "disk i/o error" in str(error).lower() or "i/o error" in str(error).lower():
                return error
    return None


def _ledger_table(totals: dict[str, dict[str, Any]], indent: str = "  ") -> list[str]:
    lines = [
        f"{indent}{'record type':<12} {'files ok':>8} {'failed':>6} {'dup':>4} "
        f"{'rows read':>10} {'landed':>10} {'quarantined':>11} {'skipped':>8}"
    ]
    for rt in (*RECORD_TYPES, *sorted(set(totals) - set(RECORD_TYPES))):
        entry = totals.get(rt, {"files": {}})
        files = entry.get("files", {})
        lines.append(
            f"{indent}{rt:<12} {files.get('loaded', 0):>8} {files.get('failed', 0):>6} "
            f"{files.get('duplicate', 0):>4} {entry.get('rows_read', 0):>10} "
            f"{entry.get('rows_landed', 0):>10} {entry.get('rows_quarantined', 0):>11} "
            f"{entry.get('lines_skipped', 0):>8}"
        )
    others = {
        s: sum(t.get("files", {}).get(s, 0) for t in totals.values())
        for s in ("superseded", "ignored")
    }
    if any(others.values()):
        lines.append(f"{indent}also: " + ", ".join(f"{n} {s}" for s, n in others.items() if n))
    return lines


def _quarantine_text(rows: list[dict[str, Any]]) -> str:
    by_stage: dict[str, list[str]] = {}
    for q in rows:
        by_stage.setdefault(q["stage"], []).append(f"{q['reason']} {q['rows']:,}")
    total = sum(q["rows"] for q in rows)
    return f"{total:,} rows: " + "; ".join(
        f"{stage} {', '.join(parts)}" for stage, parts in sorted(by_stage.items())
    )


def fix_location(settings: Settings, kind: str) -> str:
    seeds = settings.dbt_project_dir / "seeds"
    if kind == "station":
        return (
            f"{shown_path(seeds / 'station_aliases.csv')} (alias,station_id) or "
            f"{shown_path(settings.raw_dir / 'reference')}/stations*.csv"
        )
    return f"{shown_path(seeds / 'code_crosswalk.csv')} ({kind},<raw value>,<code>)"


def _unknown_lines(settings: Settings, values: list[dict[str, Any]], limit: int = 15) -> list[str]:
    lines = []
    for v in values[:limit]:
        files = ", ".join(v["files"]) + (
            f" (+{v['file_count'] - len(v['files'])} more)"
            if v["file_count"] > len(v["files"])
            else ""
        )
        note = f" [{v['note']}]" if v.get("note") else ""
        lines.append(f"  {v['kind']} '{v['value']}'{note}: {v['rows']:,} row(s) in {files}")
    if len(values) > limit:
        lines.append(f"  ... {len(values) - limit} more")
    kinds = sorted({v["kind"] for v in values}, key=lambda k: k != "station")
    for kind in kinds:
        lines.append(
            f"  fix {kind} spellings in {fix_location(settings, kind)}; the next run "
            f"releases the rows"
        )
    return lines


def _publish_line(settings: Settings) -> list[str]:
    latest = latest_publish(settings)
    if not latest:
        return ["published: nothing yet"]
    lines = [
        f"published: version {latest.get('version')} "
        f"(catalog {settings.published_dir / 'catalog.duckdb'})"
    ]
    history = latest.get("history") or []
    last = history[-1] if history else {}
    action = latest.get("action") or last.get("action")
    if action == "rollback":
        lines.append(f"  last change: rollback to it at {_when(latest.get('pointed_at'))}")
    elif action:
        lines.append(
            f"  last change: {action} at {_when(latest.get('pointed_at'))} "
            f"(run {latest.get('run_id')})"
        )
    pin = read_pin(settings)
    if pin:
        lines.append(
            f"  PINNED to version {pin.get('version')} by a rollback at "
            f"{_when(pin.get('at'))}: nightly runs land, build and validate but "
            f"publish nothing until `warehouse release`"
        )
    return lines


# -- warehouse run ------------------------------------------------------------------------------


def _step_failures(result) -> list[tuple[str, str]]:
    failures = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            text = (error.message if error else "").strip()
            cause = error.cause if error else None
            while cause is not None:  # the root cause names the file (dagster wraps it)
                text = cause.message.strip() or text
                cause = cause.cause
            failures.append((event.step_key, text))
    return failures


def _suite_checks(result) -> list[Any]:
    """The check evaluations of the suites (dbt's tests are no Dagster checks)."""
    return [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def _dbt_ran(result) -> bool:
    return any(
        event.event_type_value == "STEP_START" and event.step_key == "dbt_warehouse"
        for event in result.all_events
    )


def _meta(metadata: Any, key: str, default: Any = None) -> Any:
    if not metadata or key not in metadata:
        return default
    return getattr(metadata[key], "value", metadata[key])


def _evaluation_meta(evaluation) -> dict[str, Any]:
    return {
        "passed": evaluation.passed,
        "blocking": evaluation.severity.value == "ERROR",
        "failed": _meta(evaluation.metadata, "failed_expectations", []),
        "observed": _meta(evaluation.metadata, "observed", {}),
        "expected": _meta(evaluation.metadata, "expected", {}),
        "errors": _meta(evaluation.metadata, "errors", []),
    }


def run_summary(
    settings: Settings,
    result,
    *,
    run_id: str | None = None,
    log_path: Path | None = None,
    error: BaseException | None = None,
) -> tuple[str, bool]:
    """The run's summary text and whether it ended well (every blocking check passed and the
    publish step ran). `result` is None when the run could not start or crashed (`error`)."""
    import duckdb

    from pipelines import opsview
    from pipelines.validation.report import (
        check_counts,
        counts_text,
        dbt_test_results,
        dbt_tests_text,
        failure_text,
    )

    run_id = run_id or (result.run_id if result is not None else "?")
    step_failures = _step_failures(result) if result is not None else []
    cause = disk_full_cause(settings, [error, *(text for _, text in step_failures)])
    succeeded = result is not None and result.success and error is None
    verdict = "succeeded" if succeeded else "FAILED"
    lines = [f"run {run_id}: {verdict}"]
    if cause is not None:
        lines.append("  " + disk_full_text(settings, cause))
    elif error is not None:
        first = str(error).strip().splitlines()[:1]
        lines.append(f"  {type(error).__name__}: {' '.join(first)}")
    for step, text in step_failures:
        lines.append(f"  FAILED STEP {step}: {' '.join(text.splitlines()[:1])}")

    if settings.duckdb_path.exists():
        try:
            with (
                runstate.reading(settings.home),
                opsview.connect_readonly(settings.duckdb_path) as conn,
            ):
                this_run = opsview.ledger_totals(conn, run_id)
                failed_files = (
                    conn.execute(
                        "SELECT path, error_message FROM ops.file_ledger WHERE status = 'failed' "
                        "AND run_id = $r ORDER BY path",
                        {"r": run_id},
                    ).fetchall()
                    if opsview.has_table(conn, "ops.file_ledger")
                    else []
                )
                model = [q for q in opsview.quarantine_by_reason(conn) if q["stage"] == "model"]
        except (duckdb.Error, runstate.LockBusy) as exc:
            lines.append(f"landing: ledger unavailable ({str(exc).splitlines()[0]})")
        else:
            if failed_files:
                lines[0] += f" with failures ({len(failed_files)} file(s) set aside)"
            lines.append("landing (this run):")
            lines.extend(_ledger_table(this_run))
            for path, message in failed_files[:MAX_FILES_LISTED]:
                lines.append(f"  FAILED FILE {path}: {message}")
            if len(failed_files) > MAX_FILES_LISTED:
                lines.append(
                    f"  ... {len(failed_files) - MAX_FILES_LISTED} more (`warehouse status`)"
                )
            if model:
                lines.append(
                    "  held back by the models: "
                    + ", ".join(f"{q['reason']} {q['rows']:,}" for q in model)
                    + " (`warehouse status` names the spellings)"
                )
    else:
        lines.append("landing: no ledger (the run stopped before landing)")

    suites = [] if result is None else _suite_checks(result)
    dbt = result is not None and _dbt_ran(result)
    metas = [_evaluation_meta(e) for e in suites]
    counts = check_counts(metas)
    dbt_results = dbt_test_results(settings.dbt_target_dir / "run_results.json") if dbt else None
    dbt_text = dbt_tests_text(dbt_results) if dbt else "dbt tests: not run"
    lines.append(f"checks: {counts_text(counts)}; {dbt_text}")
    for evaluation, meta in zip(suites, metas, strict=True):
        if meta["passed"]:
            continue
        label = "FAILED CHECK" if meta["blocking"] else "WARNING"
        severity = "blocking" if meta["blocking"] else "warning"
        lines.append(
            f"  {label} {evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            f" ({severity}): {failure_text(meta)}"
        )
    for node in (dbt_results or {}).get("failed_nodes", []):
        lines.append(f"  FAILED DBT MODEL {node['node']}: {node['message']}")
    for test in (dbt_results or {}).get("not_passed", []):
        severity = "warning" if test["status"] == "warn" else "blocking"
        lines.append(f"  FAILED DBT TEST {test['test']} ({severity})")
    report = settings.reports_dir / run_id / "report.html"
    if report.exists():
        lines.append(f"validation report: {report}")

    published = None
    if result is not None:
        for m in result.get_asset_materialization_events():
            if m.asset_key is not None and m.asset_key.path == ["published", "catalog"]:
                published = m.materialization.metadata
    blocking_failed = counts["blocking"] > 0
    if published is None or blocking_failed:
        latest = latest_publish(settings)
        now = (
            f"BI still reads version {latest.get('version')}"
            if latest
            else "nothing is published yet"
        )
        lines.append(f"published: NOTHING this run (the previous version stays published): {now}")
    else:
        version = _meta(published, "version")
        reason = _meta(published, "reason", "")
        if _meta(published, "changed"):
            lines.append(
                f"published: version {version} "
                f"(catalog {settings.published_dir / 'catalog.duckdb'})"
            )
        elif reason == "pinned":
            pin = read_pin(settings) or {}
            lines.append(
                f"published: NOTHING this run: BI stays on version {version}, pinned "
                f"by a rollback at {_when(pin.get('at'))}; `warehouse release` lets "
                f"the next run publish"
            )
        else:
            lines.append(f"published: nothing new to publish; BI still reads version {version}")
    if result is not None:
        lines.extend(_bulletin_lines(result))
    if log_path is not None:
        lines.append(f"full log: {log_path}")
    ok = not blocking_failed and published is not None and error is None
    return "\n".join(lines), ok


# -- warehouse status ---------------------------------------------------------------------------


def _live_snapshot(settings: Settings) -> dict[str, Any] | None:
    import duckdb

    from pipelines import opsview

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        return opsview.snapshot(conn, None)


def _bulletin_lines(result) -> list[str]:
    """One line on the bulletins of the run, a second naming those that failed."""
    events = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key is not None and m.asset_key.path == ["published", "bulletins"]
    ]
    if not events:
        return []
    meta = {k: v.value for k, v in events[-1].materialization.metadata.items()}
    written, failed = meta.get("written") or [], meta.get("failed") or []
    reason = meta.get("reason")
    if reason == "no active campaign":
        line = f"bulletins: none (no campaign active on {meta.get('as_of')})"
    elif reason == "already written":
        line = (
            f"bulletins: already written for this version ({len(written)}) in "
            f"{meta.get('directory')}"
        )
    else:
        line = f"bulletins: {len(written)} written in {meta.get('directory')}"
    lines = [line + (f", {len(failed)} FAILED" if failed else "")]
    if failed:
        lines.append("  bulletins FAILED: " + "; ".join(failed))
    return lines


def status_report(settings: Settings) -> str:
    lines = [f"raw dir: {settings.raw_dir}", f"warehouse home: {settings.home}"]
    holder = runstate.lock_holder(settings.home)
    stored = runstate.read_status(settings.home)
    snapshot, source = None, ""
    if holder is not None:
        lines.append(f"REFRESH RUNNING {holder.describe()}")
        snapshot = stored
        source = (
            f"as of the end of the previous run ({_when(stored.get('written_at'))})"
            if stored
            else ""
        )
    elif settings.duckdb_path.exists():
        try:
            with runstate.reading(settings.home):
                snapshot = _live_snapshot(settings)
            source = "now"
        except runstate.LockBusy as busy:  # a refresh started just now
            lines.append(f"REFRESH RUNNING {busy.holder.describe() if busy.holder else ''}")
            snapshot, source = stored, "as of the end of the previous run"
        except Exception as exc:  # an unreadable database: say so, show what was stored
            lines.append(f"working database unreadable: {str(exc).splitlines()[0]}")
            snapshot, source = stored, "as of the end of the last run"
    if stored and stored.get("run_id"):
        verdict = stored.get("verdict") or "finished"
        lines.append(
            f"last run: {stored['run_id']}: {verdict} "
            f"({_when(stored.get('finished_at') or stored.get('written_at'))})"
        )
    if snapshot is None and holder is not None:
        lines.append(
            "ledger: not shown while this refresh runs (no earlier run left a "
            "snapshot; the database is not opened while it is written)"
        )
    elif snapshot is None:
        lines.append("ledger: empty (no run yet)")
    else:
        lines.extend(_status_body(settings, snapshot, source))
    lines.extend(_publish_line(settings))
    return "\n".join(lines)


def _status_body(settings: Settings, snap: dict[str, Any], source: str) -> list[str]:
    lines = [f"ledger (all runs, {source}):" if source else "ledger (all runs):"]
    lines.extend(_ledger_table(snap.get("ledger") or {}))
    failures = snap.get("failures") or {}
    open_ = failures.get("open") or []
    if open_:
        lines.append(
            f"files whose latest version failed ({failures.get('open_total', 0)}): "
            f"fix or re-export them"
        )
        for f in open_[:MAX_FILES_LISTED]:
            notes = []
            if f.get("retry"):
                notes.append("retried every run")
            if not (settings.raw_dir / f["path"]).exists():
                notes.append("no longer in the drop zone")
            note = f" [{'; '.join(notes)}]" if notes else ""
            lines.append(f"  FAILED {f['path']}: {f['message']}{note}")
        if failures.get("open_total", 0) > MAX_FILES_LISTED:
            lines.append(f"  ... {failures['open_total'] - MAX_FILES_LISTED} more")
    else:
        lines.append("files whose latest version failed: none")
    fixed = failures.get("fixed") or []
    if fixed:
        lines.append(f"fixed by a re-export ({failures.get('fixed_total', len(fixed))}):")
        for f in fixed[-5:]:
            lines.append(
                f"  fixed {f['path']} (failed {_when(f.get('failed_at'))}, new "
                f"version {_when(f.get('fixed_at'))})"
            )
    unknown = snap.get("unknown_values") or []
    if unknown:
        lines.append(f"unknown spellings held back by the models ({len(unknown)}):")
        lines.extend(_unknown_lines(settings, unknown))
    quarantine = snap.get("quarantine") or []
    if quarantine:
        lines.append(
            f"quarantine: {_quarantine_text(quarantine)} (`warehouse quarantine` lists them)"
        )
    gaps = snap.get("coverage_gaps")
    if gaps and gaps.get("total"):
        lines.append(
            "coverage gaps: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(gaps["by_status"].items()))
        )
    if snap.get("last_loaded_at"):
        lines.append(f"last file loaded at: {snap['last_loaded_at']}")
    return lines


# -- warehouse quarantine -----------------------------------------------------------------------


def quarantine_report(
    settings: Settings,
    *,
    reason: str | None = None,
    station: str | None = None,
    file: str | None = None,
    limit: int = 50,
) -> str:
    """Rejected rows; raises runstate.LockBusy while a refresh writes the database."""
    import duckdb

    from pipelines import opsview

    if not settings.duckdb_path.exists():
        return "no quarantine yet (no run yet)"
    with (
        runstate.reading(settings.home),
        duckdb.connect(str(settings.duckdb_path), read_only=True) as conn,
    ):
        rows, total = opsview.quarantine_rows(
            conn, reason=reason, station=station, file=file, limit=limit
        )
        reasons = opsview.quarantine_by_reason(conn)
    filters = ", ".join(
        f"{k} {v!r}" for k, v in (("reason", reason), ("station", station), ("file", file)) if v
    )
    lines = [
        f"{total:,} rejected row(s){' with ' + filters if filters else ''}"
        + (f"; the first {len(rows)} shown (--limit)" if total > len(rows) else "")
    ]
    for row in rows:
        where = row["file"] + (f" [{row['sheet']}]" if row["sheet"] else "")
        where += f":{row['line']}" if row["line"] is not None else " (whole file)"
        message = row["message"] or ""
        prefix = f"{row['file']} line {row['line']}: "
        if message.startswith(prefix):
            message = message[len(prefix) :]
        elif message.startswith(f"{row['file']}: "):
            message = message[len(row["file"]) + 2 :]
        lines.append(f"  {where}  {row['reason']} ({row['stage']}): {message}")
    if not total and reasons:
        lines.append("reasons present: " + ", ".join(sorted({q["reason"] for q in reasons})))
    return "\n".join(lines)


# -- warehouse versions -------------------------------------------------------------------------


def versions_report(settings: Settings) -> str:
    from pipelines.publish import list_snapshots
    from pipelines.publish.manifest import read_manifest

    published = settings.published_dir
    latest = latest_publish(settings)
    if not latest:
        return f"no published version yet under {published}"
    pin = read_pin(settings)
    actions: dict[str, list[tuple[str, str]]] = {}
    for entry in latest.get("history") or []:
        actions.setdefault(entry["version"], []).append(
            (entry.get("action", "?"), entry.get("at", ""))
        )
    lines = [
        f"kept snapshots under {published / 'snapshots'} (newest first; * = what BI reads now):"
    ]
    for version in reversed(list_snapshots(published)):
        try:
            manifest = read_manifest(published, version)
        except Exception as exc:  # a damaged snapshot is listed with the reason
            lines.append(f"  {version}: unreadable manifest ({exc})")
            continue
        tables = manifest.get("tables", {})
        rows = sum(int(t.get("rows", 0)) for t in tables.values())
        facts = ", ".join(
            f"{name.removeprefix('fct_')} {int(info.get('rows', 0)):,}"
            for name, info in sorted(tables.items())
            if name.startswith("fct_")
        )
        done = actions.get(version, [("publish", manifest.get("created_at", ""))])
        history = "; ".join(f"{a} {_when(at)}" for a, at in done[-3:])
        mark = "*" if version == latest.get("version") else " "
        pinned = " PINNED" if pin and pin.get("version") == version else ""
        lines.append(f"{mark} {version}{pinned}  run {manifest.get('run_id')}")
        lines.append(
            f"    {history}; {len(tables)} tables, {rows:,} rows"
            + (f" (facts: {facts})" if facts else "")
        )
    if pin:
        lines.append(
            f"pinned by a rollback at {_when(pin.get('at'))}: nightly runs publish "
            f"nothing until `warehouse release`"
        )
    return "\n".join(lines)
