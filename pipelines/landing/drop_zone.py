"""What lies in the drop zone: every file under raw/<record type>/, named and measured.

Nothing here reads file contents. Names are kept faithfully: a name that is not valid UTF-8 (a
GBK name unpacked from a Windows zip) or that holds control characters is stored escaped
(`\\xb9`, `\\n`), so it can be written to DuckDB, printed on one line and still told apart.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# The folders under the raw dir that hold station exports; the first folder decides the type.
RECORD_FOLDERS = ("inspections", "disputes", "traffic")
# Beside them: the operator's station registry (read by reference.py, not ledgered here).
OTHER_FOLDERS = ("reference",)


def escape_name(text: str) -> str:
    """A file name as stored and shown: undecodable bytes as \\xNN, control characters as
    \\n, \\t or \\xNN, everything else as it is (Chinese names stay readable)."""
    raw = text.encode("utf-8", "surrogateescape")
    decoded = raw.decode("utf-8", "backslashreplace")
    if decoded.isprintable():
        return decoded
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in decoded
    )


def name_note(text: str) -> str | None:
    """For a name that is not valid UTF-8: what it reads as in GBK, to help the operator."""
    raw = text.encode("utf-8", "surrogateescape")
    try:
        raw.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    try:
        return f"not valid UTF-8; as GBK it reads {raw.decode('gbk')!r}"
    except UnicodeDecodeError:
        return "not valid UTF-8 (nor GBK)"


@dataclass(frozen=True)
class Entry:
    """One file in the drop zone, as the file system shows it now."""

    rel: str  # path relative to the raw dir, '/'-separated, escaped
    fs_path: Path  # the real path (may hold surrogate escapes)
    record_type: str | None  # None: not under a record-type folder
    size: int | None  # None when the file could not be stat'ed
    mtime_ns: int | None
    problem: str | None = None  # why it cannot be read at all (not a regular file, gone, ...)
    hidden: bool = False

    @property
    def mtime(self) -> datetime | None:
        if self.mtime_ns is None:
            return None
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC).replace(tzinfo=None)

    def restat(self) -> Entry:
        return _entry(self.fs_path, self.rel, self.record_type, self.hidden)


def _entry(path: Path, rel: str, record_type: str | None, hidden: bool) -> Entry:
    try:
        st = os.stat(path)  # follows a symbolic link: a link to a regular file is read
    except OSError as exc:
        return Entry(rel, path, record_type, None, None, f"cannot stat: {exc.strerror}", hidden)
    if not stat.S_ISREG(st.st_mode):
        # a FIFO or a device would block or never end: never opened
        return Entry(rel, path, record_type, None, None, "not a regular file", hidden)
    return Entry(rel, path, record_type, st.st_size, st.st_mtime_ns, None, hidden)


def walk(raw_dir: Path) -> Iterator[Entry]:
    """Every file below the raw dir's folders, in a stable order. Files directly in the raw dir
    (a README, notes) are not exports; `reference/` is the station registry."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return
    tops = sorted(p for p in raw_dir.iterdir() if p.is_dir() and p.name not in OTHER_FOLDERS)
    for top in tops:
        record_type = top.name if top.name in RECORD_FOLDERS else None
        found: list[tuple[str, Path, bool]] = []
        # os.walk does not follow links to folders: a link loop cannot hang the scan
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in files:
                path = Path(folder) / name
                rel = path.relative_to(raw_dir).as_posix()
                hidden = any(part.startswith(".") for part in Path(rel).parts)
                found.append((escape_name(rel), path, hidden))
        for rel, path, hidden in sorted(found, key=lambda f: f[0]):
            yield _entry(path, rel, record_type, hidden)


def settle(
    entries: list[Entry], seconds: float, now: float | None = None
) -> tuple[list[Entry], list[Entry]]:
    """(stable, still being written): a file modified within the last `seconds` is watched
    until it is `seconds` old; if its size or mtime changed meanwhile it is still being
    written. Waits at most `seconds`, once for all files."""
    if seconds <= 0:
        return entries, []
    now = time.time() if now is None else now
    young = [e for e in entries if e.mtime_ns is not None and now - e.mtime_ns / 1e9 < seconds]
    if not young:
        return entries, []
    newest = max(e.mtime_ns for e in young) / 1e9
    time.sleep(max(0.0, min(seconds, newest + seconds - now)))
    moving = set()
    for e in young:
        again = e.restat()
        if (again.size, again.mtime_ns) != (e.size, e.mtime_ns):
            moving.add(e.rel)
    return ([e for e in entries if e.rel not in moving], [e for e in entries if e.rel in moving])
