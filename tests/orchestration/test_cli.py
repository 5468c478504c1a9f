"""The `warehouse` command: set-up free checks that need no job run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import build_parser, dev_command

WAREHOUSE = Path(sys.executable).with_name("warehouse")


def _run(args, **env):
    return subprocess.run(
        [str(WAREHOUSE), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_empty_raw_dir_says_nothing_to_load_and_exits_zero(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = _run(["run"], WAREHOUSE_RAW_DIR=str(empty), WAREHOUSE_HOME=str(tmp_path / "home"))
    assert out.returncode == 0, out.stderr
    assert "nothing to load" in out.stdout


def _without_pii_key(tmp_path, **values):
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_PII_KEY"}
    env.update(WAREHOUSE_HOME=str(tmp_path / "home"), **values)
    return env


def test_production_without_pii_key_refuses_to_start(tmp_path):
    env = _without_pii_key(tmp_path, WAREHOUSE_ENV="production")
    out = subprocess.run(
        [str(WAREHOUSE), "run"], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 2
    assert "WAREHOUSE_PII_KEY" in out.stderr
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()


@pytest.mark.parametrize("environment", ["production", "dev"])
def test_commands_that_only_read_state_need_no_pii_key_and_do_not_warn(tmp_path, environment):
    env = _without_pii_key(tmp_path, WAREHOUSE_ENV=environment)
    for args in (["status"], ["versions"], ["quarantine"], ["release"]):
        out = subprocess.run(
            [str(WAREHOUSE), *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert out.returncode == 0, (args, out.stderr)
        assert "WAREHOUSE_PII_KEY" not in out.stdout + out.stderr, args


def test_status_on_a_new_home(tmp_path):
    out = _run(["status"], WAREHOUSE_HOME=str(tmp_path / "home"))
    assert out.returncode == 0, out.stderr
    assert "no run yet" in out.stdout and "published: nothing yet" in out.stdout


def test_versions_and_quarantine_on_a_new_home(tmp_path):
    home = str(tmp_path / "home")
    versions = _run(["versions"], WAREHOUSE_HOME=home)
    assert versions.returncode == 0 and "no published version yet" in versions.stdout
    quarantine = _run(["quarantine"], WAREHOUSE_HOME=home)
    assert quarantine.returncode == 0 and "no run yet" in quarantine.stdout
    release = _run(["release"], WAREHOUSE_HOME=home)
    assert release.returncode == 0 and "nothing is pinned" in release.stdout


@pytest.mark.unit
def test_parser_knows_every_command():
    parser = build_parser()
    for argv in (
        ["run"],
        ["run", "--no-wait", "--verbose"],
        ["status"],
        ["quarantine"],
        [
            "quarantine",
            "--reason",
            "bad_date",
            "--station",
            "古林",
            "--file",
            "a.csv",
            "--limit",
            "5",
        ],
        ["versions"],
        ["generate", "--out", "x"],
        ["rollback"],
        ["release"],
        ["dev"],
    ):
        assert parser.parse_args(argv).func


def test_dev_help_documents_port_and_host():
    out = _run(["dev", "--help"])
    assert out.returncode == 0, out.stderr
    for option in ("--port", "--host", "--log-level", "dagster dev"):
        assert option in out.stdout, option


@pytest.mark.unit
def test_dev_passes_its_options_to_dagster_dev():
    args = build_parser().parse_args(
        ["dev", "--port", "3001", "--host", "0.0.0.0", "--", "--live-data-poll-rate", "5000"]
    )
    command = dev_command(args)
    assert Path(command[0]).name == "dagster"
    assert command[1:] == [
        "dev",
        "-m",
        "pipelines.definitions",
        "--port",
        "3001",
        "--host",
        "0.0.0.0",
        "--live-data-poll-rate",
        "5000",
    ]
    plain = dev_command(build_parser().parse_args(["dev"]))
    assert plain[1:] == ["dev", "-m", "pipelines.definitions"]


def test_run_help_documents_no_wait_and_verbose():
    out = _run(["run", "--help"])
    assert "--no-wait" in out.stdout and "--verbose" in out.stdout
