"""Model-level quarantine: rows dbt could not resolve join the landing rejects in ops.quarantine."""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class.
import dagster as dg

from pipelines.defs.resources import WarehouseResource

REJECTED_ROWS_KEY = dg.AssetKey(["intermediate", "int_rejected_rows"])
QUARANTINE_KEY = dg.AssetKey(["ops", "quarantine"])

# Replacing the whole 'model' stage each run is what re-examines it: a row whose station
# alias or code was added since the last run is no longer in int_rejected_rows.
SYNC_SQL = """
DELETE FROM ops.quarantine WHERE stage = 'model';
INSERT INTO ops.quarantine (
    quarantine_id, stage, record_type, source_path, file_sha256, sheet, line_number,
    reason_code, message, raw_values, run_id, quarantined_at, station_text, record_date)
SELECT
    'model:' || record_type || ':' || file_sha256 || ':' || source_path || ':'
        || coalesce(sheet, '') || ':' || line_number || ':' || reason_code,
    'model', record_type, source_path, file_sha256, sheet, line_number,
    reason_code, message, raw_values, $run_id, now(), station_text, record_date
FROM intermediate.int_rejected_rows;
"""


@dg.asset(
    key=QUARANTINE_KEY,
    deps=[REJECTED_ROWS_KEY],
    group_name="ops",
    kinds={"duckdb"},
    description="Rejected rows with reason codes: landing rules and model lookups, one table.",
)
def quarantine(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        conn.execute("BEGIN")
        for statement in filter(str.strip, SYNC_SQL.split(";")):
            if "$run_id" in statement:
                conn.execute(statement, {"run_id": context.run.run_id})
            else:
                conn.execute(statement)
        conn.execute("COMMIT")
        rows = conn.execute(
            "SELECT stage, reason_code, count(*) FROM ops.quarantine GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    by_reason = {f"{stage}.{reason}": n for stage, reason, n in rows}
    return dg.MaterializeResult(
        metadata={"total": sum(by_reason.values()), "by_reason": dg.MetadataValue.json(by_reason)}
    )
