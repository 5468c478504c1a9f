"""A BI reader: loops over the catalog with read_only connections until STOP_FILE exists,
checking every answer against the manifest of the version it reports. Prints a JSON summary.
Usage: reader_loop.py CATALOG PUBLISHED STOP_FILE fresh|held

fresh: a new read_only connection per query batch (what a BI tool with no connection pool
does); held: one read_only connection kept open all along. The two are separate processes:
in one process duckdb.connect(path) hands out the instance already open for that path, so a
held connection would pin every "fresh" one to the same (old) file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

TABLES = ["dim_codes", "fct_events", "mart_summary"]


def read(conn: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, int]]:
    conn.execute("BEGIN TRANSACTION")
    version = conn.execute("SELECT version FROM meta.publish_info").fetchone()[0]
    counts = {t: conn.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in TABLES}
    conn.execute("SELECT sum(fine_yuan), max(happened_on) FROM marts.fct_events").fetchall()
    conn.execute("COMMIT")
    return version, counts


def main() -> None:
    catalog, published, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    mode = sys.argv[4]
    summary = {"queries": 0, "errors": [], "mismatches": [], "versions": []}
    held = duckdb.connect(str(catalog), read_only=True) if mode == "held" else None
    deadline = time.monotonic() + 60
    while not stop.exists() and time.monotonic() < deadline:
        try:
            conn = held or duckdb.connect(str(catalog), read_only=True)
            try:
                version, counts = read(conn)
            finally:
                if conn is not held:
                    conn.close()
            manifest = json.loads((published / "snapshots" / version / "manifest.json").read_text())
            expected = {t: manifest["tables"][t]["rows"] for t in TABLES}
            if counts != expected:
                summary["mismatches"].append([version, counts, expected])
            if version not in summary["versions"]:
                summary["versions"].append(version)
            summary["queries"] += 1
        except Exception as exc:  # every error is a finding
            summary["errors"].append(f"{type(exc).__name__}: {exc}")
        (stop.parent / f"reader-{mode}.progress").write_text(json.dumps(summary["versions"]))
        time.sleep(0.005)
    if held is not None:
        held.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
