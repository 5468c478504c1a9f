"""What `warehouse run` and `warehouse status` print: read from the ledger and published/."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.settings import RECORD_TYPES, Settings

LEDGER_SQL = """
SELECT record_type,
       count(*) FILTER (WHERE status = 'loaded')    AS loaded,
       count(*) FILTER (WHERE status = 'failed')    AS failed,
       count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
       coalesce(sum(rows_read), 0)                  AS rows_read,
       coalesce(sum(rows_landed), 0)                AS rows_landed,
       coalesce(sum(rows_quarantined), 0)           AS rows_quarantined,
       coalesce(sum(lines_skipped), 0)              AS lines_skipped
FROM ops.file_ledger {where}
GROUP BY record_type
"""


def _ledger(conn: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, tuple]:
    where = "WHERE run_id = $run_id" if run_id else ""
    params = {"run_id": run_id} if run_id else {}
    rows = conn.execute(LEDGER_SQL.format(where=where), params).fetchall()
    return {row[0]: row[1:] for row in rows}


def _ledger_lines(conn: duckdb.DuckDBPyConnection, run_id: str | None) -> list[str]:
    ledger = _ledger(conn, run_id)
    lines = [f"  {'record type':<12} {'files ok':>8} {'failed':>6} {'dup':>4} "
             f"{'rows read':>10} {'landed':>10} {'quarantined':>11} {'skipped':>8}"]
    for rt in RECORD_TYPES:
        loaded, failed, dup, read, landed, quarantined, skipped = ledger.get(rt, (0,) * 7)
        lines.append(f"  {rt:<12} {loaded:>8} {failed:>6} {dup:>4} {read:>10} {landed:>10} "
                     f"{quarantined:>11} {skipped:>8}")
    failures = conn.execute(
        "SELECT path, error_message FROM ops.file_ledger WHERE status = 'failed' "
        + ("AND run_id = $run_id " if run_id else "") + "ORDER BY path",
        {"run_id": run_id} if run_id else {},
    ).fetchall()
    for path, message in failures:
        lines.append(f"  FAILED FILE {path}: {message}")
    model = conn.execute(
        "SELECT reason_code, count(*) FROM ops.quarantine WHERE stage = 'model' "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    if model:
        lines.append("  held back by the models: "
                     + ", ".join(f"{reason} {n}" for reason, n in model))
    return lines


def latest_publish(settings: Settings) -> dict | None:
    latest = settings.published_dir / "latest.json"
    return json.loads(latest.read_text()) if latest.exists() else None


def _publish_lines(settings: Settings) -> list[str]:
    latest = latest_publish(settings)
    if not latest:
        return ["published: nothing yet"]
    return [f"published: version {latest.get('version')} "
            f"(catalog {settings.published_dir / 'catalog.duckdb'})"]


def run_summary(settings: Settings, result) -> tuple[str, bool]:
    """The run's summary text and whether every blocking check passed."""
    run_id = result.run_id
    lines = [f"run {run_id}: {'succeeded' if result.success else 'FAILED'}"]
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            message = (error.message if error else "").strip().splitlines()[:1]
            lines.append(f"  FAILED STEP {event.step_key}: {' '.join(message)}")
    if settings.duckdb_path.exists():
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
            ledger_lines = _ledger_lines(conn, run_id)
            failed_files = conn.execute(
                "SELECT count(*) FROM ops.file_ledger WHERE status = 'failed' AND run_id = $r",
                {"r": run_id},
            ).fetchone()[0]
        if failed_files:
            lines[0] += f" with failures ({failed_files} file(s) set aside)"
        lines.append("landing (this run):")
        lines.extend(ledger_lines)
    else:
        lines.append("landing: no ledger (the run stopped before landing)")
    evaluations = result.get_asset_check_evaluations()
    failed_checks = [e for e in evaluations if not e.passed]
    blocking_failed = [e for e in failed_checks if e.severity.value == "ERROR"]
    lines.append(f"checks: {len(evaluations) - len(failed_checks)} passed, "
                 f"{len(failed_checks)} failed ({len(blocking_failed)} blocking)")
    for e in failed_checks:
        lines.append(f"  FAILED CHECK {e.asset_key.to_user_string()}:{e.check_name} "
                     f"({e.severity.value.lower()})")
    report = settings.reports_dir / run_id / "report.html"
    if report.exists():
        lines.append(f"validation report: {report}")
    published = [
        m for m in result.get_asset_materialization_events()
        if m.asset_key is not None and m.asset_key.path == ["published", "catalog"]
    ]
    if blocking_failed or not published:
        lines.append("published: NOTHING this run (previous version unchanged)")
        lines.extend("  " + line for line in _publish_lines(settings))
    else:
        lines.extend(_publish_lines(settings))
    lines.extend(_bulletin_lines(result))
    return "\n".join(lines), not blocking_failed and bool(published)


def _bulletin_lines(result) -> list[str]:
    """One line on the bulletins of the run, a second naming those that failed."""
    events = [m for m in result.get_asset_materialization_events()
              if m.asset_key is not None and m.asset_key.path == ["published", "bulletins"]]
    if not events:
        return []
    meta = {k: v.value for k, v in events[-1].materialization.metadata.items()}
    written, failed = meta.get("written") or [], meta.get("failed") or []
    reason = meta.get("reason")
    if reason == "no active campaign":
        line = f"bulletins: none (no campaign active on {meta.get('as_of')})"
    elif reason == "already written":
        line = f"bulletins: already written for this version ({len(written)}) in " \
               f"{meta.get('directory')}"
    else:
        line = f"bulletins: {len(written)} written in {meta.get('directory')}"
    lines = [line + (f", {len(failed)} FAILED" if failed else "")]
    if failed:
        lines.append("  bulletins FAILED: " + "; ".join(failed))
    return lines


def status_report(settings: Settings) -> str:
    lines = [f"raw dir: {settings.raw_dir}", f"warehouse home: {settings.home}"]
    db: Path = settings.duckdb_path
    if not db.exists():
        lines.append("ledger: empty (no run yet)")
    else:
        try:
            with duckdb.connect(str(db), read_only=True) as conn:
                lines.append("ledger (all runs):")
                lines.extend(_ledger_lines(conn, None))
                last = conn.execute("SELECT max(loaded_at) FROM ops.file_ledger").fetchone()[0]
                lines.append(f"last file loaded at: {last}")
        except duckdb.IOException as exc:
            lines.append(f"ledger unavailable (a refresh holds the database): {exc}")
    lines.extend(_publish_lines(settings))
    return "\n".join(lines)
