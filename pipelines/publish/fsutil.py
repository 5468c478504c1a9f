"""Durable, atomic file operations and the publish lock (POSIX: rename and flock)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

TMP_DIRNAME = ".tmp"


def tmp_area(published_dir: Path) -> Path:
    """Scratch space inside published/ (same filesystem, so renames out of it are atomic)."""
    return published_dir / TMP_DIRNAME


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file, then every directory bottom-up, under root (root included)."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def atomic_write_bytes(path: Path, data: bytes, tmp_dir: Path) -> None:
    """Write to a temporary file, fsync it, os.replace it over `path`, fsync the folder."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write_json(path: Path, payload: Any, tmp_dir: Path) -> None:
    text = json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=False, default=str)
    atomic_write_bytes(path, (text + "\n").encode(), tmp_dir)


def remove_tree(path: Path, trash_dir: Path) -> None:
    """Remove a folder so that it is either whole or absent at every instant: rename it into
    the temp area first (atomic), then delete it there."""
    if not path.exists():
        return
    trash_dir.mkdir(parents=True, exist_ok=True)
    target = trash_dir / f"trash-{path.name}-{os.getpid()}"
    if target.exists():
        shutil.rmtree(target)
    os.rename(path, target)
    fsync_dir(path.parent)
    shutil.rmtree(target, ignore_errors=True)


def clear_tmp(published_dir: Path, *, remove_dir: bool = False) -> None:
    """Delete everything in the temp area (leftovers of killed runs). Call under the lock."""
    tmp = tmp_area(published_dir)
    if not tmp.exists():
        return
    for entry in tmp.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if remove_dir:
        with suppress(OSError):
            tmp.rmdir()


@contextmanager
def publish_lock(published_dir: Path) -> Iterator[None]:
    """One publisher or rollback at a time. The lock is an flock on the published/ folder
    itself, so it creates no file there (published/ stays byte-identical when nothing is
    published) and is released by the kernel when the process dies (kill -9 included)."""
    published_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(published_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
