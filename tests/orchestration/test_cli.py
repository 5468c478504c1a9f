"""The `warehouse` command: set-up free checks that need no job run."""

import os
import subprocess
import sys
from pathlib import Path

from pipelines.cli import build_parser

WAREHOUSE = Path(sys.executable).with_name("warehouse")


def _run(args, **env):
    return subprocess.run([str(WAREHOUSE), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_empty_raw_dir_says_nothing_to_load_and_exits_zero(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = _run(["run"], WAREHOUSE_RAW_DIR=str(empty), WAREHOUSE_HOME=str(tmp_path / "home"))
    assert out.returncode == 0, out.stderr
    assert "nothing to load" in out.stdout


def test_production_without_pii_key_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_PII_KEY"}
    env.update(WAREHOUSE_ENV="production", WAREHOUSE_HOME=str(tmp_path / "home"))
    out = subprocess.run([str(WAREHOUSE), "status"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 2
    assert "WAREHOUSE_PII_KEY" in out.stderr


def test_status_on_a_new_home(tmp_path):
    out = _run(["status"], WAREHOUSE_HOME=str(tmp_path / "home"))
    assert out.returncode == 0, out.stderr
    assert "no run yet" in out.stdout and "published: nothing yet" in out.stdout


def test_parser_knows_every_command():
    parser = build_parser()
    for argv in (["run"], ["status"], ["generate", "--out", "x"], ["rollback"], ["release"],
                 ["dev"]):
        assert parser.parse_args(argv).func
