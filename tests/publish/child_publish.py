"""Run one publish in a child process (the kill -9 tests). Usage:
child_publish.py SOURCE PUBLISHED RUN_ID [kill-at KIND before|after]

KIND names a rename of the publish by its destination: `snapshot` (the folder into
snapshots/), `latest` (latest.json), `catalog` (catalog.duckdb), `trash` (pruning). The child
SIGKILLs itself right before or right after the first such rename."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import duckdb  # noqa: E402

from pipelines.publish import publish  # noqa: E402
from tests.publish.helpers import TABLES  # noqa: E402


def kind_of(dst: str) -> str:
    path = Path(dst)
    if path.parent.name == "snapshots":
        return "snapshot"
    if path.name == "latest.json":
        return "latest"
    if path.name == "catalog.duckdb":
        return "catalog"
    if path.name.startswith("trash-"):
        return "trash"
    return "other"


def arm(kind: str, when: str) -> None:
    def wrap(real):
        def inner(src, dst, *args, **kwargs):
            hit = kind_of(os.fspath(dst)) == kind
            if hit and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            real(src, dst, *args, **kwargs)
            if hit:
                os.kill(os.getpid(), signal.SIGKILL)

        return inner

    os.replace, os.rename = wrap(os.replace), wrap(os.rename)


def main() -> None:
    source, published, run_id = sys.argv[1:4]
    if sys.argv[4:5] == ["kill-at"]:
        arm(sys.argv[5], sys.argv[6])
    conn = duckdb.connect(source, read_only=True)
    print("start", flush=True)
    result = publish(conn, TABLES, Path(published), run_id=run_id, keep=3)
    print("done", result.version, flush=True)


if __name__ == "__main__":
    main()
