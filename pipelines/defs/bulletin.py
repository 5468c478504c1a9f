"""The bulletins of the active campaigns for the version just published (orchestration only:
the work is pipelines.bulletin.batch)."""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a class.
import dagster as dg

from pipelines.bulletin.batch import BatchResult, write_version_bulletins
from pipelines.defs.publish import PUBLISHED_KEY
from pipelines.defs.resources import WarehouseResource

BULLETINS_KEY = dg.AssetKey(["published", "bulletins"])


@dg.asset(
    key=BULLETINS_KEY,
    deps=[PUBLISHED_KEY],
    group_name="publish",
    kinds={"html"},
    description="Bulletins (通报) of the active campaigns, city level and each bureau, for the "
    "published version: published/bulletins/<version>/, listed in latest.json.",
)
def published_bulletins(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    # A bulletin that fails is reported (metadata, a warning, the run summary) and the step
    # still succeeds: the version is published and stays published whatever happens here.
    try:
        result = write_version_bulletins(warehouse.published_dir)
    except Exception as exc:  # the catalog could not be read, the disk is full, ...
        result = BatchResult(
            version=None,
            reason="failed",
            failed=[{"campaign_id": "*", "unit": "*", "error": f"{type(exc).__name__}: {exc}"}],
        )
    for failure in result.failed:
        context.log.warning(
            f"bulletin {failure['campaign_id']} {failure['unit']} not written: {failure['error']}"
        )
    meta = result.as_metadata()
    return dg.MaterializeResult(
        metadata={
            "version": meta["version"] or "",
            "reason": meta["reason"],
            "directory": dg.MetadataValue.path(meta["directory"] or ""),
            "as_of": meta["as_of"] or "",
            "written": dg.MetadataValue.json(meta["written"]),
            "failed": dg.MetadataValue.json(meta["failed"]),
            "listed": meta["listed"],
        }
    )
