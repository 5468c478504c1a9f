"""The suite files in expectations/: loading, consistency rules and the canonical file format.

Layout of the folder (all of it data, none of it generated at run time, no SQL: the SQL the
suites run is dbt's, the check models of dbt_project/models/checks, see compiled.py):

- ``<table>.json``: the great-expectations suite of one published table (GE 1.x suite JSON
  without ids). ``meta.table`` names the table (and its dbt model) and ``meta.checks`` maps
  every named check to its description; ``meta.schema`` is the table's schema (default
  ``marts``; ``quality`` for the data-quality tables). Each expectation's ``meta`` holds
  ``check`` (the named check it belongs to), ``blocking`` (a failure of this expectation is
  ERROR severity and stops the publish), ``batch`` (``rows``: the table streamed in Arrow
  record batches, or the name of a batch in the sibling YAML) and ``label`` (a short name
  shown in metadata and the report).
- ``<table>.batches.yml``: how the batches are read: ``rows`` (optional: a check model whose
  rows the row-level expectations stream instead of the table's own, e.g. with a computed
  column), ``key`` (columns identifying a row in failing samples) and ``batches``: each names
  the check ``model`` whose compiled SQL gives the small frame GE validates, the optional
  ``sample`` model listing the failing rows and ``key`` (the frame's identifying columns), or
  is ``screen: personal_data``: the frame is the personal-data screen of every text value of
  the rows (screening.py; incremental like the row-level expectations).
  The optional ``rows_since`` names a column of the rows that every (re)write of a row raises
  (the models' batch stamp): given the value up to which rows were validated before, the
  row-level expectations read only the rows above it (see runner.run_checks), and a batch
  with a ``since`` model reads that model instead (its SQL takes the value as
  ``$validated_through``).
- ``parameters.yml``: thresholds, each with its default and the environment variable that
  overrides it (read by pipelines.settings); used as ``{"$PARAMETER": name}`` in expectations
  and as ``$name`` (macro check_threshold) in the check models' SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUITE_SUFFIX = ".json"
# A named check whose expectations mix severities becomes two checks: the warning part keeps
# the name, the blocking part gets this suffix (one severity per check, shown truthfully).
BLOCKING_SUFFIX = "_blocking"
BATCHES_SUFFIX = ".batches.yml"
PARAMETERS_FILE = "parameters.yml"
ROWS = "rows"

# Row-level (map) expectations: their results add up over record batches.
ROW_LEVEL_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_value_lengths_to_be_between",
    }
)


class SuiteError(ValueError):
    """A suite file breaks the rules above."""


@dataclass(frozen=True)
class CheckSpec:
    """One check: a Dagster asset check on ``<schema>.<table>``, of one severity
    (``blocking``: a failure stops the publish; else it is a warning)."""

    name: str
    table: str
    blocking: bool
    description: str
    schema: str = "marts"
    # the named check of the suite file it comes from (differs for a `_blocking` part)
    suite_check: str = ""


@dataclass(frozen=True)
class Expectation:
    type: str
    kwargs: dict[str, Any]
    check: str
    blocking: bool
    batch: str
    label: str

    def parameter_names(self) -> set[str]:
        return {
            v["$PARAMETER"]
            for v in self.kwargs.values()
            if isinstance(v, Mapping) and "$PARAMETER" in v
        }

    def columns(self) -> list[str]:
        return [self.kwargs[k] for k in ("column", "column_A", "column_B") if k in self.kwargs]


@dataclass(frozen=True)
class CheckBatch:
    """A named frame of a suite's aggregate expectations: the compiled SQL of a dbt check
    model (``model``, its failing rows ``sample``), or the personal-data screen."""

    name: str
    model: str | None
    sample: str | None = None
    key: tuple[str, ...] = ()
    # 'personal_data': the frame is the screen of every text value of the rows (screening.py)
    screen: str | None = None
    # the model read instead of ``model`` when the suite's rows were validated up to a stamp:
    # the same frame over what changed since ($validated_through), see runner.run_checks
    since: str | None = None


@dataclass(frozen=True)
class Suite:
    table: str
    path: Path
    descriptions: dict[str, str]
    expectations: list[Expectation]
    key: tuple[str, ...]
    batches: dict[str, CheckBatch] = field(default_factory=dict)
    rows_since: str | None = None
    schema: str = "marts"  # where the table is (and is published): marts or quality
    # a check model whose rows the row-level expectations read (None: the table's own model)
    rows_model: str | None = None

    @property
    def models(self) -> set[str]:
        """The check models this suite reads."""
        named = {self.rows_model} | {
            m for b in self.batches.values() for m in (b.model, b.sample, b.since)
        }
        return {m for m in named if m}

    @property
    def qualified(self) -> str:
        """The name publish takes: bare for marts, schema.table otherwise."""
        return self.table if self.schema == "marts" else f"{self.schema}.{self.table}"

    def mixed_checks(self) -> set[str]:
        """Named checks whose expectations are partly blocking, partly warnings."""
        kinds: dict[str, set[bool]] = {}
        for e in self.expectations:
            kinds.setdefault(e.check, set()).add(e.blocking)
        return {name for name, found in kinds.items() if len(found) > 1}

    def check_of(self, expectation: Expectation) -> str:
        """The check (Dagster asset check) an expectation counts in."""
        if expectation.blocking and expectation.check in self.mixed_checks():
            return expectation.check + BLOCKING_SUFFIX
        return expectation.check

    def specs(self) -> list[CheckSpec]:
        """One spec per named check of one severity. A named check mixing severities (e.g.
        completeness: a warning for any missing station-day, blocking past a threshold) is
        split: ``<name>`` holds its warnings, ``<name>_blocking`` its blocking expectations,
        so the Dagster UI, the report and the terminal never call a warning blocking."""
        mixed = self.mixed_checks()
        specs = []
        for name, description in self.descriptions.items():
            members = [e for e in self.expectations if e.check == name]
            if name not in mixed:
                specs.append(
                    CheckSpec(
                        name=name,
                        table=self.table,
                        blocking=any(e.blocking for e in members),
                        description=description,
                        suite_check=name,
                        schema=self.schema,
                    )
                )
                continue
            blocking_labels = "; ".join(e.label for e in members if e.blocking)
            specs.append(
                CheckSpec(
                    name=name,
                    table=self.table,
                    blocking=False,
                    suite_check=name,
                    schema=self.schema,
                    description=f"{description} (Warning only; its blocking part is the check "
                    f"{name}{BLOCKING_SUFFIX}.)",
                )
            )
            specs.append(
                CheckSpec(
                    name=name + BLOCKING_SUFFIX,
                    table=self.table,
                    blocking=True,
                    suite_check=name,
                    schema=self.schema,
                    description=f"Blocks the publish unless: {blocking_labels}. The blocking part "
                    f"of {name}: {description}",
                )
            )
        return specs


def dump_json(data: Any) -> str:
    """The one canonical text of a suite file: sorted keys, two-space indent, UTF-8 as is."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _expectation(table: str, raw: Mapping[str, Any], checks: Mapping[str, str]) -> Expectation:
    if "id" in raw:
        raise SuiteError(f"{table}: expectation ids are not stored in suite files")
    meta = raw.get("meta") or {}
    missing = [k for k in ("check", "blocking", "batch") if k not in meta]
    if missing:
        raise SuiteError(f"{table}: expectation {raw.get('type')} lacks meta {missing}")
    if meta["check"] not in checks:
        raise SuiteError(f"{table}: check {meta['check']!r} is not described in meta.checks")
    kwargs = dict(raw.get("kwargs") or {})
    label = (
        meta.get("label")
        or raw["type"].removeprefix("expect_")
        + "("
        + ",".join(str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs)
        + ")"
    )
    if meta["batch"] == ROWS and raw["type"] not in ROW_LEVEL_TYPES:
        raise SuiteError(f"{table}: {raw['type']} cannot run on streamed rows; use a SQL batch")
    return Expectation(
        type=raw["type"],
        kwargs=kwargs,
        check=meta["check"],
        blocking=bool(meta["blocking"]),
        batch=meta["batch"],
        label=label,
    )


_MODEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _no_sql(name: str, extra: Mapping[str, Any]) -> None:
    """A batches file names dbt models; SQL in it (the old layout) is refused."""
    keys = set(extra) | {k for b in (extra.get("batches") or {}).values() for k in b}
    models = [extra.get("rows")] + [
        b.get(k) for b in (extra.get("batches") or {}).values() for k in ("model", "sample")
    ]
    if keys & {"parameters", "with", "sql"} or any(
        m is not None and not _MODEL_NAME.match(str(m)) for m in models
    ):
        raise SuiteError(
            f"{name}: SQL belongs to the dbt check models "
            f"(dbt_project/models/checks); name a model instead"
        )


def load_suite(path: Path) -> Suite:
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.get("meta") or {}
    table = meta.get("table") or path.stem
    schema = meta.get("schema") or "marts"
    checks: dict[str, str] = dict(meta.get("checks") or {})
    expectations = [_expectation(table, e, checks) for e in data.get("expectations", [])]
    side = path.with_name(path.stem + BATCHES_SUFFIX)
    extra = yaml.safe_load(side.read_text(encoding="utf-8")) if side.exists() else {}
    extra = extra or {}
    _no_sql(side.name, extra)
    batches = {}
    for name, b in (extra.get("batches") or {}).items():
        if b.get("screen"):
            if b["screen"] != "personal_data" or "model" in b:
                raise SuiteError(f"{table}: batch {name}: screen is 'personal_data', alone")
            batches[name] = CheckBatch(name=name, model=None, screen=b["screen"])
            continue
        if not b.get("model"):
            raise SuiteError(f"{table}: batch {name} names no check model")
        if b.get("since") and not extra.get("rows_since"):
            raise SuiteError(f"{table}: batch {name} has a since model but no rows_since")
        batches[name] = CheckBatch(
            name=name,
            model=b["model"],
            sample=b.get("sample"),
            key=tuple(b.get("key") or ()),
            since=b.get("since"),
        )
    suite = Suite(
        table=table,
        path=path,
        descriptions=checks,
        expectations=expectations,
        key=tuple(extra.get("key") or ()),
        batches=batches,
        rows_since=extra.get("rows_since"),
        schema=schema,
        rows_model=extra.get("rows"),
    )
    for e in expectations:
        if e.batch != ROWS and e.batch not in batches:
            raise SuiteError(f"{table}: batch {e.batch!r} is not defined in {side.name}")
    labels = [(e.check, e.label) for e in expectations]
    if len(labels) != len(set(labels)):
        raise SuiteError(f"{table}: expectation labels repeat within a check")
    for name in checks:
        if not any(e.check == name for e in expectations):
            raise SuiteError(f"{table}: check {name!r} has no expectation")
        if name + BLOCKING_SUFFIX in checks and name in suite.mixed_checks():
            raise SuiteError(
                f"{table}: check {name!r} mixes severities and "
                f"{name + BLOCKING_SUFFIX!r} is taken by another check"
            )
    return suite


def suite_paths(suites_dir: Path) -> list[Path]:
    return sorted(p for p in Path(suites_dir).glob(f"*{SUITE_SUFFIX}") if p.is_file())


def load_suites(suites_dir: Path) -> list[Suite]:
    return [load_suite(p) for p in suite_paths(suites_dir)]


def check_specs(suites_dir: Path) -> list[CheckSpec]:
    """Every named check of every suite: what Dagster declares as asset checks."""
    return [spec for suite in load_suites(suites_dir) for spec in suite.specs()]


def load_thresholds(suites_dir: Path, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """parameters.yml defaults, each overridden by its environment variable's value in
    ``overrides`` (Settings.check_thresholds: variable name -> text) when set there."""
    overrides = overrides or {}
    path = Path(suites_dir) / PARAMETERS_FILE
    spec = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    values: dict[str, Any] = {}
    for name, entry in spec.items():
        value = entry.get("default")
        env = entry.get("env")
        if env and str(overrides.get(env, "")).strip():
            raw = str(overrides[env]).strip()
            try:
                value = (
                    int(raw)
                    if isinstance(value, int) and not isinstance(value, bool)
                    else float(raw)
                )
            except ValueError as exc:
                raise SuiteError(f"{env}={raw!r} is not a number") from exc
        values[name] = value
    return values


def format_suites(suites_dir: Path) -> list[Path]:
    """Rewrite every suite file in the canonical form (after a hand edit); returns the changed."""
    changed = []
    for path in suite_paths(suites_dir):
        text = path.read_text(encoding="utf-8")
        canonical = dump_json(json.loads(text))
        if text != canonical:
            path.write_text(canonical, encoding="utf-8")
            changed.append(path)
        load_suite(path)  # and still valid
    return changed
