"""Decide, before anything lands, what each file in the drop zone is this run.

Against the ledger (ledger.py) every file is one of:
- `unchanged`: same size and mtime as the path's latest version (not read), or read and the
  same bytes (`touch`: only its stat is remembered);
- `land`: new bytes for the path (or a duplicate whose original no longer counts);
- `reactivate`: the path is back to bytes it held before (a revert): that version counts again;
- `known_failure`: back to bytes that failed before: not parsed again, still failed;
- `candidate`: bytes loaded at another path, shared with an earlier file of this run, or a
  known duplicate: decided after landing (`duplicate` of a committed, loaded version, else
  landed), so a crash never leaves two copies recorded as duplicates of each other, and a copy
  whose original stops counting this run lands in the same run;
- `failed` (retry or not) / `ignored`: set aside without reading (see drop_zone.Entry.problem,
  hidden files, files outside a record-type folder, files over the size limit, files still
  being written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.hashing import sha256_file
from pipelines.landing.drop_zone import RECORD_FOLDERS, Entry, settle, walk
from pipelines.landing.ledger import Known, LedgerState, ledger_state
from pipelines.landing.limits import Limits


@dataclass
class Step:
    kind: str
    entry: Entry
    sha256: str | None = None
    known: Known | None = None  # the ledger version the step is about (revert, touch, ...)
    message: str = ""
    retry: bool = False

    @property
    def rel(self) -> str:
        return self.entry.rel

    @property
    def record_type(self) -> str | None:
        return self.entry.record_type


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    state: LedgerState | None = None

    def of(self, *kinds: str) -> list[Step]:
        return [s for s in self.steps if s.kind in kinds]


def _same_stat(known: Known | None, entry: Entry) -> bool:
    return known is not None and known.size_bytes == entry.size and known.mtime == entry.mtime


def _unread(entry: Entry, latest: Known | None, limits: Limits) -> Step | None:
    """A step for a file that is never read, or None when it must be read."""
    if entry.problem:
        return Step("failed", entry, message=entry.problem, retry=True)
    if entry.hidden:
        if latest and latest.status == "ignored" and _same_stat(latest, entry):
            return Step("unchanged", entry)
        return Step(
            "ignored",
            entry,
            message="hidden file (a name starting with '.' is an "
            "upload in progress or a system file): not read",
        )
    reason = None
    if entry.record_type is None:
        reason = (
            f"not in a record-type folder ({', '.join(f + '/' for f in RECORD_FOLDERS)})"
            ": move it into the folder of its record type"
        )
    elif entry.size > limits.max_file_bytes:
        reason = (
            f"too large: {entry.size:,} bytes, more than the limit "
            f"{limits.max_file_bytes:,} (WAREHOUSE_MAX_FILE_MB)"
        )
    if reason:
        if (
            latest
            and latest.status == "failed"
            and not latest.retry
            and latest.sha256 is None
            and _same_stat(latest, entry)
        ):
            return Step("unchanged", entry)
        return Step("failed", entry, message=reason)
    if latest and latest.sha256 and not latest.retry and _same_stat(latest, entry):
        if latest.status == "duplicate":  # its original may stop counting this very run
            return Step("candidate", entry, latest.sha256, latest)
        if latest.status in ("loaded", "failed"):
            return Step("unchanged", entry, latest.sha256, latest)
    return None


def _read(entry: Entry, sha: str, state: LedgerState, seen: set[str]) -> Step:
    latest = state.latest.get(entry.rel)
    if latest is not None and latest.sha256 == sha and not latest.retry:
        if latest.status == "duplicate":
            return Step("candidate", entry, sha, latest)
        return Step("touch", entry, sha, latest)  # same bytes, newer stat
    else:
        earlier = state.versions.get((entry.rel, sha))
        if earlier is not None and earlier.status in ("loaded", "superseded"):
            seen.add(sha)
            return Step("reactivate", entry, sha, earlier)
        if earlier is not None and earlier.status == "failed" and not earlier.retry:
            return Step(
                "known_failure",
                entry,
                sha,
                earlier,
                message=earlier.error_message or "failed before",
            )
    if sha in state.loaded_sha or sha in seen:
        return Step("candidate", entry, sha)
    seen.add(sha)
    return Step("land", entry, sha)


def make_plan(
    conn: duckdb.DuckDBPyConnection, raw_dir: Path, record_types: tuple[str, ...], limits: Limits
) -> Plan:
    state = ledger_state(conn)
    plan = Plan(state=state)
    every_type = set(RECORD_FOLDERS) <= set(record_types)
    to_read: list[Entry] = []
    position: dict[str, int] = {}
    for entry in walk(Path(raw_dir)):
        if entry.record_type not in record_types and not (entry.record_type is None and every_type):
            continue
        position[entry.rel] = len(position)
        step = _unread(entry, state.latest.get(entry.rel), limits)
        if step is None:
            to_read.append(entry)
        else:
            plan.steps.append(step)
    stable, moving = settle(to_read, limits.settle_seconds)
    for entry in moving:
        plan.steps.append(
            Step(
                "failed",
                entry,
                retry=True,
                message=(
                    f"still being written: its size or modification time changed within "
                    f"{limits.settle_seconds:g} s (WAREHOUSE_SETTLE_SECONDS); tried again next run"
                ),
            )
        )
    seen: set[str] = set()
    for entry in stable:
        try:
            sha = sha256_file(entry.fs_path)
        except OSError as exc:
            plan.steps.append(
                Step("failed", entry, message=f"cannot read: {exc.strerror}", retry=True)
            )
            continue
        plan.steps.append(_read(entry, sha, state, seen))
    plan.steps.sort(key=lambda s: position[s.rel])  # the drop zone's order, whatever the pass
    return plan
