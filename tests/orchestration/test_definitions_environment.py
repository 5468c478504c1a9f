"""Loading the code location reads the environment and writes nothing to it: the settings are
read once, dbt gets the warehouse through --vars, and the manifest of a fresh warehouse is made
by the preparer without exporting a single variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = """
import json, os
before = dict(os.environ)
import pipelines.definitions
after = dict(os.environ)
print(json.dumps({"added": sorted(set(after) - set(before)),
                  "removed": sorted(set(before) - set(after)),
                  "changed": sorted(k for k in before if k in after and before[k] != after[k])}))
"""


def test_importing_the_definitions_leaves_os_environ_unchanged(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("WAREHOUSE_", "DBT_", "DAGSTER_"))
    }
    # no WAREHOUSE_PII_KEY: the development fallback, which dbt must learn without the environment
    env.update(WAREHOUSE_HOME=str(tmp_path / "home"), WAREHOUSE_RAW_DIR=str(tmp_path / "raw"))
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "added": [],
        "removed": [],
        "changed": [],
    }
    assert (tmp_path / "home" / "dbt" / "target" / "manifest.json").exists()
