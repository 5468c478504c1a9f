"""Publish validated marts: immutable Parquet snapshots, the BI catalog, latest.json,
rollback and retention. See docs/bi_access.md and pipelines/publish/publisher.py."""

from pipelines.publish.bulletins import (
    attach_bulletins,
    bulletins_dir,
    bulletins_entry,
    is_listed,
    staging_dir,
)
from pipelines.publish.catalog import catalog_version, storage_number, storage_tag
from pipelines.publish.manifest import PublishStateError, dbt_descriptions, read_latest
from pipelines.publish.publisher import (
    DEFAULT_KEEP,
    PublishError,
    PublishResult,
    UnknownVersionError,
    current_version,
    list_snapshots,
    pinned,
    publish,
    release,
    rollback,
)

__all__ = [
    "DEFAULT_KEEP",
    "PublishError",
    "PublishResult",
    "PublishStateError",
    "UnknownVersionError",
    "attach_bulletins",
    "bulletins_dir",
    "bulletins_entry",
    "catalog_version",
    "current_version",
    "dbt_descriptions",
    "is_listed",
    "list_snapshots",
    "pinned",
    "publish",
    "read_latest",
    "release",
    "rollback",
    "staging_dir",
    "storage_number",
    "storage_tag",
]
