"""One refresh at a time: the writer lock, who holds it, and the small files read without it.

DuckDB allows one writing process, and a reader in another process cannot open the file while
it is written. So:

- a refresh holds an exclusive ``flock`` on ``WAREHOUSE_HOME/.writer.lock`` for its whole run
  (the ``warehouse run`` command from before the Dagster instance is created until its summary
  is printed; a run started by the UI, the schedule or the sensor in the Dagster resource). The
  file's content names the holder: run id, pid, start time, command. The kernel releases the
  lock when the process dies, even on SIGKILL; stale content is never trusted without probing
  the lock;
- commands that only read the working database (``status``, ``quarantine``, ``versions``) take
  the lock shared while they read, so a refresh starting meanwhile waits a moment instead of
  failing on DuckDB's file lock; when a refresh holds it they do not open the database at all;
- at the end of every run, still under the lock, a snapshot of the ledger and quarantine is
  written to ``WAREHOUSE_HOME/status.json``: ``warehouse status`` reads it while a refresh runs;
- the raw-dir fingerprint landing saw is kept in ``WAREHOUSE_HOME/last_raw.json``: the file
  sensor compares with it, so starting the UI launches nothing when no raw file changed;
- ``dagster/.init.lock`` serialises the creation of the Dagster instance (sqlite schemas).

flock() locks belong to an open file description: a second ``open()`` of the lock file in the
same process conflicts with the first and would wait forever. Locks taken here are therefore
registered per process (``held_here``), and code that runs inside a refresh (the Dagster
resource, the summary) asks before locking again.

No heavy imports here: ``warehouse status`` must answer within two seconds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_NAME = ".writer.lock"
STATUS_NAME = "status.json"
LAST_RAW_NAME = "last_raw.json"
INIT_LOCK_NAME = ".init.lock"
# a --no-wait run retries this long: readers hold the lock shared for a moment only
NO_WAIT_GRACE_S = 1.0
EX_TEMPFAIL = 75  # sysexits.h: "try again later"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the writer lock."""

    run_id: str | None
    pid: int | None
    started_at: str | None
    command: str | None
    host: str | None = None

    def describe(self) -> str:
        since = _local_time(self.started_at) if self.started_at else "an unknown time"
        parts = [f"since {since}"]
        if self.run_id:
            parts.append(f"run {self.run_id}")
        if self.pid:
            parts.append(f"pid {self.pid}")
        if self.command:
            parts.append(self.command)
        return ", ".join(parts)


def _local_time(iso: str) -> str:
    try:
        stamp = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


class LockBusy(RuntimeError):
    """The writer lock is held by another process."""

    def __init__(self, holder: Holder | None):
        self.holder = holder
        super().__init__(busy_message(holder))


def busy_message(holder: Holder | None) -> str:
    if holder is None:
        return "another refresh is running since an unknown time (its details are not written)"
    return f"another refresh is running {holder.describe()}"


def lock_path(home: Path) -> Path:
    return Path(home) / LOCK_NAME


def _key(home: Path) -> str:
    return str(Path(home).resolve())


# home -> the lock this process holds on it
_HELD: dict[str, WriterLock] = {}


def held_here(home: Path) -> bool:
    """Whether this process holds the writer lock of `home` (then do not lock it again)."""
    return _key(home) in _HELD


def read_holder(home: Path) -> Holder | None:
    """What the lock file says about its holder (meaningful only while the lock is held)."""
    try:
        text = lock_path(home).read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return Holder(**{k: data.get(k) for k in Holder.__dataclass_fields__})


def lock_holder(home: Path) -> Holder | None:
    """The holder if some process holds the writer lock now, else None. Probes the lock with a
    shared, non-blocking flock released at once; never waits."""
    path = lock_path(home)
    if held_here(home):
        return _HELD[_key(home)].holder
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(home) or Holder(None, None, None, None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class WriterLock:
    """The exclusive writer lock of one warehouse home, held by this process."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.fd: int | None = None
        self.holder: Holder | None = None

    def acquire(
        self,
        *,
        run_id: str | None,
        command: str,
        wait: bool = True,
        on_wait: Callable[[Holder | None], None] | None = None,
    ) -> WriterLock:
        if held_here(self.home):
            raise RuntimeError(f"this process already holds the writer lock of {self.home}")
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(self.home), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd, fcntl.LOCK_EX, NO_WAIT_GRACE_S if not wait else 0.0):
                holder = read_holder(self.home)
                if not wait:
                    raise LockBusy(holder)
                if on_wait is not None:
                    on_wait(holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        self.holder = Holder(
            run_id=run_id,
            pid=os.getpid(),
            started_at=now_iso(),
            command=command,
            host=socket.gethostname(),
        )
        _write_holder(fd, self.holder)
        _HELD[_key(self.home)] = self
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        _HELD.pop(_key(self.home), None)
        with contextlib.suppress(OSError):  # nobody holds it now; best effort
            os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int, kind: int, grace_s: float) -> bool:
    deadline = time.monotonic() + grace_s
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def _write_holder(fd: int, holder: Holder) -> None:
    """The holder's details in the lock file. A failed write (full disk) leaves the lock held
    and its details unknown: readers then say so."""
    data = (json.dumps(asdict(holder)) + "\n").encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError:
        pass


def acquire_writer(
    home: Path,
    *,
    run_id: str | None,
    command: str,
    wait: bool = True,
    on_wait: Callable[[Holder | None], None] | None = None,
) -> WriterLock:
    return WriterLock(home).acquire(run_id=run_id, command=command, wait=wait, on_wait=on_wait)


@contextmanager
def reading(home: Path) -> Iterator[None]:
    """Hold the writer lock shared while reading the working database. Raises LockBusy, without
    waiting, when a refresh holds it. Inside a refresh of this process it only yields."""
    if held_here(home):
        yield
        return
    path = lock_path(home)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield  # no refresh ever ran here
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(read_holder(home)) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def instance_init_lock(dagster_home: Path) -> Iterator[None]:
    """Serialise creating the Dagster instance's storages (two processes creating the sqlite
    schemas of a fresh home at once break it, sometimes for good)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    fd = os.open(dagster_home / INIT_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# -- small JSON files beside the database ---------------------------------------------------


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write-then-rename, so a reader sees the old or the new file, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(
            json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
        )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def status_path(home: Path) -> Path:
    return Path(home) / STATUS_NAME


def read_status(home: Path) -> dict[str, Any] | None:
    data = read_json(status_path(home))
    return data if isinstance(data, dict) else None


def write_status(home: Path, snapshot: dict[str, Any]) -> None:
    write_json_atomic(status_path(home), snapshot)


def update_status(home: Path, **fields: Any) -> None:
    """Merge fields into the snapshot (e.g. the CLI's verdict on the run)."""
    current = read_status(home) or {}
    current.update(fields)
    write_status(home, current)


# -- what the raw dir looked like to the last run ---------------------------------------------


def raw_dir_fingerprint(raw_dir: Path) -> tuple[str, int]:
    """A digest of every export's (relative path, size, mtime), and the file count."""
    from pipelines.settings import raw_export_files

    digest = hashlib.sha256()
    count = 0
    for path in raw_export_files(raw_dir):
        try:
            stat = path.stat()
        except OSError:  # gone meanwhile
            continue
        entry = f"{path.relative_to(raw_dir).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}\n"
        digest.update(entry.encode("utf-8", "surrogateescape"))
        count += 1
    return digest.hexdigest(), count


def record_raw_fingerprint(home: Path, fingerprint: str, files: int, run_id: str) -> None:
    write_json_atomic(
        Path(home) / LAST_RAW_NAME,
        {"fingerprint": fingerprint, "files": files, "run_id": run_id, "at": now_iso()},
    )


def last_raw_fingerprint(home: Path) -> str | None:
    data = read_json(Path(home) / LAST_RAW_NAME)
    return data.get("fingerprint") if isinstance(data, dict) else None


# -- disk full --------------------------------------------------------------------------------

DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
DISK_FULL_TEXTS = (
    "no space left on device",
    "database or disk is full",
    "disk quota exceeded",
    "file too large",
    "[errno 28]",
    "[errno 27]",
    "[errno 122]",
)


def is_disk_full(error: BaseException | str | None) -> bool:
    """Whether an exception (or an error text) says that a write found no space."""
    if error is None:
        return False
    if isinstance(error, BaseException):
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
                return True
            if any(t in str(current).lower() for t in DISK_FULL_TEXTS):
                return True
            current = current.__cause__ or current.__context__
        return False
    return any(t in error.lower() for t in DISK_FULL_TEXTS)
