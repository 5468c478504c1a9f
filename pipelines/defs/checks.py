"""great-expectations suites as blocking Dagster asset checks on the candidate marts tables.

Each named check in the suites becomes one asset check. The outcomes are also written to the
run's report folder, which the publish asset reads again before it publishes anything.

The SQL of the aggregate checks is dbt's: the check models (dbt_project/models/checks) as the
`dbt build` of this run compiled them into the warehouse's dbt target folder
(pipelines/validation/compiled.py).

Row-level expectations of the fact tables read only the rows written since the run behind the
published snapshot (its watermarks.json: that run's checks all passed, or it would not have
published); so does their reconciliation, over the record numbers changed since (a batch's
`since` model); other aggregate checks read whole tables. WAREHOUSE_VALIDATION_FULL=1 reads
every row and every record.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class,
# a string annotation fails the definition.
import json
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.publish.manifest import read_latest
from pipelines.settings import Settings, load_settings
from pipelines.validation import check_specs, row_watermarks, run_checks, write_report
from pipelines.validation.compiled import load_compiled
from pipelines.validation.report import (
    dbt_test_results,
    describe_expected,
    describe_observed,
    failure_text,
)

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
    if warehouse.validation_full:
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


def landing_facts(conn, run_id: str) -> dict[str, Any]:
    """What the report's landing section shows (pipelines.opsview)."""
    from pipelines import opsview

    return {
        "failures": opsview.file_failures(conn),
        "quarantine": opsview.quarantine_by_reason(conn),
        "quarantine_run": opsview.quarantine_by_reason(conn, run_id),
        "coverage_gaps": opsview.coverage_gaps(conn),
    }


def check_summary(meta: dict[str, Any]) -> str:
    """One line of text for the UI: what failed (observed vs expected), or what was seen."""
    if not meta["passed"]:
        return failure_text(meta, limit=3)
    return "; ".join(
        f"{label}: {describe_observed(meta['observed'].get(label))} (expected "
        f"{describe_expected(expected)})"
        for label, expected in list(meta["expected"].items())[:3]
    )


def build_checks(suites_dir: Path, settings: Settings | None = None) -> dg.AssetChecksDefinition:
    """The asset checks of the suites in ``suites_dir``; ``settings`` (default:
    load_settings()) gives the validation knobs and the dbt project."""
    settings = settings or load_settings()
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
        compiled = load_compiled(
            warehouse.dbt_target_dir, settings.dbt_project_dir, env=settings.dbt_env()
        )
        context.log.info(f"check SQL compiled by dbt: {compiled.manifest}")
        with warehouse.connect(read_only=True) as conn:
            marks = row_watermarks(conn, suites_dir, compiled)
            outcomes = run_checks(
                conn, suites_dir, compiled, settings=settings, validated_through=since
            )
            landing = landing_facts(conn, run_id)
        path = outcomes_path(warehouse, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        watermarks_path(warehouse, run_id).write_text(json.dumps(marks, indent=1))
        path.write_text(
            json.dumps([o.as_metadata() for o in outcomes], ensure_ascii=False, indent=1)
        )
        dbt_tests = dbt_test_results(warehouse.dbt_target_dir / "run_results.json")
        report = write_report(
            outcomes, warehouse.reports_dir, run_id, landing=landing, dbt_tests=dbt_tests
        )
        context.log.info(f"validation report: {report}")
        for outcome in outcomes:
            meta = outcome.as_metadata()
            metadata = {
                "severity": "blocking" if meta["blocking"] else "warning",
                "summary": dg.MetadataValue.text(check_summary(meta)),
                "observed": dg.MetadataValue.json(meta["observed"]),
                "expected": dg.MetadataValue.json(meta["expected"]),
                "failing_sample": dg.MetadataValue.json(meta["failing_sample"]),
                "report": dg.MetadataValue.path(str(report)),
                "rows_scope": meta["rows_scope"],
            }
            if meta["failed"]:
                metadata["failed_expectations"] = dg.MetadataValue.json(meta["failed"])
            if meta["errors"]:
                metadata["errors"] = dg.MetadataValue.json(meta["errors"])
            # Each check has one severity, the one its spec declares (blocking=True only for
            # checks that stop the publish): a mixed check of the suites is split in two.
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey([schemas[outcome.table], outcome.table]),
                check_name=outcome.name,
                passed=outcome.passed,
                severity=ERROR if outcome.blocking else WARN,
                description=outcome.description,
                metadata=metadata,
            )

    return validate_marts
