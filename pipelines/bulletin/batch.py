"""The bulletins of a newly published version: every active campaign, at city level and for
each bureau, written to `published/bulletins/<version>/` and listed in latest.json.

A campaign is active when its dates contain the last day with records in the published facts
(the data's "today"; the nightly data end yesterday, and historical corpora end long ago). The
period is `whole`: from the campaign's start to that day. One bulletin that fails is recorded
with its error and does not stop the others; nothing here can change the published version.
"""

from __future__ import annotations

import json
import shutil
import traceback
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipelines.bulletin.build import build_bulletin
from pipelines.bulletin.phrases import Phrases
from pipelines.bulletin.reader import (
    DEFAULT_ATTEMPTS,
    DEFAULT_DELAY,
    PublishedCatalog,
    open_catalog,
)
from pipelines.bulletin.render import basename, write_files
from pipelines.bulletin.scope import FACTS, Campaign, load_campaigns, units_with_records
from pipelines.publish.bulletins import (
    INDEX_NAME,
    attach_bulletins,
    bulletins_dir,
    is_listed,
    read_index,
    staging_dir,
)
from pipelines.publish.fsutil import fsync_tree

PERIOD = "whole"


@dataclass
class BatchResult:
    version: str | None
    reason: str  # written | already written | no active campaign | failed
    directory: Path | None = None
    as_of: date | None = None
    written: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    listed: bool = False

    def as_metadata(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "reason": self.reason,
            "directory": str(self.directory) if self.directory else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "written": [f"{w['campaign_id']} {w['unit']}" for w in self.written],
            "failed": [f"{f['campaign_id']} {f['unit']}: {f['error']}" for f in self.failed],
            "listed": self.listed,
        }


def last_record_day(cat: PublishedCatalog) -> date | None:
    parts = " UNION ALL ".join(
        f"SELECT max({day}) AS day FROM {view}" for view, day, _station in FACTS.values()
    )
    return cat.conn.execute(f"SELECT max(day) FROM ({parts})").fetchone()[0]


def active_campaigns(cat: PublishedCatalog, as_of: date | None) -> list[Campaign]:
    if as_of is None:
        return []
    return [c for c in load_campaigns(cat).values() if c.starts_on <= as_of <= c.ends_on]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _write_all(
    cat: PublishedCatalog, staged: Path, as_of: date | None, result: BatchResult
) -> None:
    phrases = Phrases.load()
    for campaign in active_campaigns(cat, as_of):
        units = units_with_records(cat, campaign)
        targets = [(city, "city") for city in units.cities()]
        targets += [(bureau, "bureau") for city in units.cities() for bureau in units.bureaus(city)]
        for name, level in targets:
            entry: dict[str, Any] = {
                "campaign_id": campaign.campaign_id,
                "campaign_name": campaign.name,
                "level": level,
                "unit": name,
            }
            try:
                b = build_bulletin(
                    cat,
                    campaign.campaign_id,
                    name,
                    period_kind=PERIOD,
                    phrases=phrases,
                    units=units,
                )
                files = write_files(b, staged, f"{level}_{basename(b)}")
            except Exception as exc:  # one bad bulletin must not stop the others
                result.failed.append(
                    {**entry, "error": _one_line(exc), "traceback": traceback.format_exc(limit=5)}
                )
                continue
            result.written.append(
                {
                    **entry,
                    "period": {
                        "kind": b.period.kind,
                        "from": b.period.start.isoformat(),
                        "to": b.period.end.isoformat(),
                    },
                    "html": files.html.name,
                    "text": files.text.name,
                    "warnings": b.warnings,
                }
            )


def write_version_bulletins(
    published_dir: Path | str, *, attempts: int = DEFAULT_ATTEMPTS, delay: float = DEFAULT_DELAY
) -> BatchResult:
    """Write the bulletins of the version the catalog shows now, unless that version has them
    already; list them in latest.json."""
    published_dir = Path(published_dir).resolve()
    with open_catalog(published_dir, attempts=attempts, delay=delay) as cat:
        version = cat.version
        folder = bulletins_dir(published_dir) / version
        index = read_index(published_dir, version)
        if index is not None:
            result = BatchResult(
                version,
                "already written",
                folder,
                written=index.get("items", []),
                failed=index.get("failed", []),
            )
            result.listed = is_listed(published_dir, version)
            if not result.listed:  # moved into place, then killed before listing
                staged = staging_dir(published_dir, version)
                shutil.copytree(folder, staged)
                result.listed = attach_bulletins(published_dir, version, staged)
            return result
        as_of = last_record_day(cat)
        result = BatchResult(version, "written", folder, as_of=as_of)
        staged = staging_dir(published_dir, version)
        if staged.exists():
            shutil.rmtree(staged)
        staged.mkdir(parents=True)
        try:
            _write_all(cat, staged, as_of, result)
            if not result.written and not result.failed:
                result.reason = "no active campaign"
            elif not result.written:
                result.reason = "failed"
            index = {
                "version": version,
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "as_of": as_of.isoformat() if as_of else None,
                "period": PERIOD,
                "items": result.written,
                "failed": [{k: v for k, v in f.items() if k != "traceback"} for f in result.failed],
            }
            (staged / INDEX_NAME).write_text(
                json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            fsync_tree(staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
    result.listed = attach_bulletins(published_dir, version, staged)
    return result
