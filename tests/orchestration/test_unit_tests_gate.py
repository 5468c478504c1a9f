"""dbt's unit tests are left out of a build only when they all passed on the same code."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pipelines.defs import unit_tests
from pipelines.defs.dbt import project_files

UNITS = ["unit_test.p.m.rates", "unit_test.p.n.latest"]


def _project(root: Path) -> Path:
    (root / "macros").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: p\n")
    (root / "macros" / "m.sql").write_text("{% macro rate() %}1{% endmacro %}\n")
    return root


def _build(target: Path, statuses: dict[str, str], units=UNITS) -> None:
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"unit_tests": dict.fromkeys(units, {})}))
    results = [{"unique_id": uid, "status": status} for uid, status in statuses.items()]
    results.append({"unique_id": "test.p.not_null_x.1", "status": "pass"})
    (target / "run_results.json").write_text(json.dumps({"results": results}))


def _fingerprint(project: Path) -> str:
    return unit_tests.code_fingerprint(project_files(project), project)


def test_unit_tests_are_skipped_only_on_the_code_they_passed_on(tmp_path):
    project, target = _project(tmp_path / "project"), tmp_path / "target"
    code = _fingerprint(project)
    assert unit_tests.skip_args(target, code) == []  # a fresh warehouse runs them

    started = time.time() - 1
    _build(target, dict.fromkeys(UNITS, "pass"))
    assert unit_tests.record_if_all_passed(target, code, "run-1", started)
    assert unit_tests.skip_args(target, code) == ["--exclude-resource-type", "unit_test"]
    assert unit_tests.passed_on(target)["run_id"] == "run-1"

    # a changed macro is other code: they run again
    (project / "macros" / "m.sql").write_text("{% macro rate() %}2{% endmacro %}\n")
    changed = _fingerprint(project)
    assert changed != code
    assert unit_tests.skip_args(target, changed) == []


def test_nothing_is_recorded_unless_every_unit_test_ran_and_passed_in_this_build(tmp_path):
    project, target = _project(tmp_path / "project"), tmp_path / "target"
    code = _fingerprint(project)
    started = time.time() - 1

    _build(target, {UNITS[0]: "pass"})  # a subset build ran one of the two
    assert not unit_tests.record_if_all_passed(target, code, "r", started)
    _build(target, {UNITS[0]: "pass", UNITS[1]: "skipped"})
    assert not unit_tests.record_if_all_passed(target, code, "r", started)
    assert unit_tests.skip_args(target, code) == []

    # run_results.json of an earlier build (this one was killed before writing it)
    _build(target, dict.fromkeys(UNITS, "pass"))
    old = started - 60
    os.utime(target / "run_results.json", (old, old))
    assert not unit_tests.record_if_all_passed(target, code, "r", started)

    # a pass, then a failure on the same warehouse: the failure forgets the pass
    _build(target, dict.fromkeys(UNITS, "pass"))
    assert unit_tests.record_if_all_passed(target, code, "r", started)
    _build(target, {UNITS[0]: "pass", UNITS[1]: "fail"})
    assert not unit_tests.record_if_all_passed(target, code, "r", started)
    assert unit_tests.skip_args(target, code) == []
