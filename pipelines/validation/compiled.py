"""The SQL the suites run is dbt's: the check models of dbt_project/models/checks, compiled.

The check models are ephemeral: every `dbt build` compiles them (their SQL is in the
manifest.json it writes into the warehouse's dbt target folder, ``compiled_code``) and never
runs them. The manifest also names the relation of every model, so nothing here spells a
schema: a suite's rows are its table's relation, each aggregate batch the compiled SQL of the
check model its ``.batches.yml`` names.

When the manifest lacks the compiled SQL (a `dbt parse` wrote it after a code change, or a
build of a subset of the models did), the check models are compiled on their own into a
folder beside the target (``compile_checks``: `dbt compile`, which reads no data and opens no
database), so the build's own run_results.json and manifest stay as they are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# the folder of the check models inside the dbt project, as dbt selects it
CHECKS_SELECTOR = "path:models/checks"
CHECKS_PATH_PREFIX = "models/checks/"
# the fallback compile's target folder, beside the build's (WAREHOUSE_HOME/dbt/target)
CHECKS_TARGET = "checks_target"


class CompiledSqlError(LookupError):
    """A model the suites name has no relation or compiled SQL in the manifest."""


@dataclass(frozen=True)
class CompiledSql:
    """Relations of dbt's models and the compiled SQL of its check models."""

    manifest: Path
    relations: Mapping[str, str]  # model name -> relation ("warehouse"."marts"."fct_x")
    checks: Mapping[str, str | None]  # check model name -> compiled SQL (None: not compiled)

    def sql(self, model: str) -> str:
        """The compiled SELECT of a check model."""
        if model not in self.checks:
            raise CompiledSqlError(
                f"{model} is not a check model of the dbt project ({self.manifest})"
            )
        sql = self.checks[model]
        if not sql:
            raise CompiledSqlError(
                f"{model} was not compiled by the dbt invocation that wrote {self.manifest}"
            )
        return sql

    def relation(self, model: str) -> str:
        """The relation a model is built as."""
        try:
            return self.relations[model]
        except KeyError:
            raise CompiledSqlError(
                f"{model} is not a model built by the dbt project ({self.manifest})"
            ) from None

    @property
    def complete(self) -> bool:
        """Every check model has its compiled SQL."""
        return bool(self.checks) and all(self.checks.values())


def read_manifest(manifest: Path) -> CompiledSql:
    data = json.loads(Path(manifest).read_text(encoding="utf-8"))
    project = (data.get("metadata") or {}).get("project_name")
    relations: dict[str, str] = {}
    checks: dict[str, str | None] = {}
    for node in (data.get("nodes") or {}).values():
        if node.get("resource_type") != "model" or node.get("package_name") != project:
            continue
        if str(node.get("original_file_path", "")).startswith(CHECKS_PATH_PREFIX):
            code = node.get("compiled_code")
            checks[node["name"]] = code.strip().rstrip(";") if code else None
        elif node.get("relation_name"):
            relations[node["name"]] = node["relation_name"]
    return CompiledSql(manifest=Path(manifest), relations=relations, checks=checks)


def compile_checks(
    project_dir: Path, target_dir: Path, env: Mapping[str, str] | None = None
) -> Path:
    """`dbt compile` of the check models alone into ``target_dir``; returns its manifest.
    No data is read and no database opened (--no-populate-cache, ephemeral models)."""
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [
        str(dbt),
        "--no-use-colors",
        "--quiet",
        "compile",
        "--no-populate-cache",
        "--select",
        CHECKS_SELECTOR,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(Path(target_dir) / "logs"),
    ]
    result = subprocess.run(
        cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CompiledSqlError(
            f"dbt compile of the check models failed:\n{(result.stdout + result.stderr)[-4000:]}"
        )
    return Path(target_dir) / "manifest.json"


def load_compiled(
    target_dir: Path, project_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> CompiledSql:
    """The SQL of the last `dbt build` in ``target_dir``; when its manifest is missing or
    lacks compiled check SQL and ``project_dir`` is given, the check models compiled alone
    into ``<target_dir>/../checks_target``."""
    manifest = Path(target_dir) / "manifest.json"
    compiled = None
    try:
        compiled = read_manifest(manifest)
    except (OSError, ValueError):
        if project_dir is None:
            raise
    if compiled is not None and (compiled.complete or project_dir is None):
        return compiled
    return read_manifest(compile_checks(project_dir, Path(target_dir).parent / CHECKS_TARGET, env))
