"""Is a published file still byte for byte what its manifest recorded?

Every publish links the unchanged files of the current snapshot into the new one, after
checking them. Reading each file again for its sha256 costs a pass over the whole published
history every night (10x city, 1.9 GB: 1.2 s on 2 cores), so a file is trusted by its stat
(inode, size, mtime in ns) when the manifest recorded that stat well after the file's last
write: a write changes the mtime, except one within the same clock tick as the write before
it, which a stat recorded RACY_NS later cannot mistake (git's rule for "racily clean" index
entries). Otherwise, or when asked to (WAREHOUSE_VALIDATION_FULL), the sha256 is read, and the
stat taken before that read is recorded for the next publish.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pipelines.hashing import sha256_file

RACY_NS = 2_000_000_000  # far above any filesystem's timestamp granularity


def _fields(st: Any, stamp: int) -> dict[str, int]:
    return {"inode": st.st_ino, "mtime_ns": st.st_mtime_ns, "stat_at_ns": stamp}


def stat_fields(path: Path) -> dict[str, int]:
    """The manifest fields a later publish compares, taken before any read of the bytes they
    vouch for."""
    stamp = time.time_ns()
    return _fields(path.stat(), stamp)


def _trusted(st: Any, entry: dict[str, Any]) -> bool:
    return (
        entry.get("inode") == st.st_ino
        and entry.get("mtime_ns") == st.st_mtime_ns
        and entry.get("stat_at_ns", 0) - st.st_mtime_ns >= RACY_NS
    )


def verified(path: Path, entry: dict[str, Any], *, read_bytes: bool = False) -> dict | None:
    """`entry` (its stat fields renewed when the bytes were read) if the file at `path` holds
    the bytes the entry records; None if it does not or is gone."""
    stamp = time.time_ns()
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if st.st_size != entry["bytes"]:
        return None
    if not read_bytes and _trusted(st, entry):
        return entry
    if sha256_file(path) != entry["sha256"]:
        return None
    return {**entry, **_fields(st, stamp)}
