"""great-expectations suites as blocking Dagster asset checks on the candidate marts tables.

Each named check in the suites becomes one asset check. The outcomes are also written to the
run's report folder, which the publish asset reads again before it publishes anything.

Row-level expectations of the fact tables read only the rows written since the run behind the
published snapshot (its watermarks.json: that run's checks all passed, or it would not have
published); aggregate checks read whole tables. WAREHOUSE_VALIDATION_FULL=1 reads every row.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class,
# a string annotation fails the definition.
import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.publish.manifest import read_latest
from pipelines.validation import check_specs, row_watermarks, run_checks, write_report

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
# The checks read ops.quarantine's sync too (the same key as pipelines/defs/quarantine.py);
# spelled here so this module imports nothing but the resource.
QUARANTINE_KEY = dg.AssetKey(["ops", "quarantine"])


def outcomes_path(warehouse: WarehouseResource, run_id: str) -> Path:
    return warehouse.reports_dir / run_id / "checks.json"


def watermarks_path(warehouse: WarehouseResource, run_id: str) -> Path:
    return warehouse.reports_dir / run_id / "watermarks.json"


def validated_through(warehouse: WarehouseResource) -> dict[str, Any] | None:
    """The row stamps validated by the run whose snapshot is published now (None: read all)."""
    if os.environ.get("WAREHOUSE_VALIDATION_FULL", "").strip() in ("1", "true", "yes"):
        return None
    try:
        latest = read_latest(warehouse.published_dir)
    except Exception:  # an unreadable pointer: the publish step reports it; validate all here
        return None
    if latest is None or not latest.get("run_id"):
        return None
    path = watermarks_path(warehouse, latest["run_id"])
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def build_checks(suites_dir: Path) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            name=spec.name,
            asset=dg.AssetKey([spec.schema, spec.table]),
            blocking=spec.blocking,
            description=spec.description,
            additional_deps=[QUARANTINE_KEY],
        )
        for spec in check_specs(suites_dir)
    ]

    schemas = {spec.table: spec.schema for spec in check_specs(suites_dir)}

    @dg.multi_asset_check(specs=specs, name="validate_marts", can_subset=False)
    def validate_marts(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        run_id = context.run.run_id  # (AssetCheckExecutionContext has no .run_id)
        since = validated_through(warehouse)
        with warehouse.connect(read_only=True) as conn:
            marks = row_watermarks(conn, suites_dir)
            outcomes = run_checks(conn, suites_dir, validated_through=since)
        path = outcomes_path(warehouse, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        watermarks_path(warehouse, run_id).write_text(json.dumps(marks, indent=1))
        path.write_text(
            json.dumps([o.as_metadata() for o in outcomes], ensure_ascii=False, indent=1)
        )
        report = write_report(outcomes, warehouse.reports_dir, run_id)
        context.log.info(f"validation report: {report}")
        for outcome in outcomes:
            meta = outcome.as_metadata()
            metadata = {
                "observed": dg.MetadataValue.json(meta["observed"]),
                "expected": dg.MetadataValue.json(meta["expected"]),
                "failing_sample": dg.MetadataValue.json(meta["failing_sample"]),
                "report": dg.MetadataValue.path(str(report)),
                "rows_scope": meta["rows_scope"],
            }
            if meta["errors"]:
                metadata["errors"] = dg.MetadataValue.json(meta["errors"])
            # A failed check is ERROR (blocks the publish) only when a blocking expectation of
            # it failed; e.g. completeness warns below its threshold and blocks above it.
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey([schemas[outcome.table], outcome.table]),
                check_name=outcome.name,
                passed=outcome.passed,
                severity=ERROR if outcome.blocking else WARN,
                description=outcome.description,
                metadata=metadata,
            )

    return validate_marts
