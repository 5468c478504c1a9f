"""Run the suites on data read from DuckDB: pandas batches validated by great-expectations.

GE's SQL datasource returns empty results on DuckDB, so nothing here hands GE a connection:

- row-level expectations (``batch: rows``) run on the table streamed as Arrow record batches
  of at most ``WAREHOUSE_VALIDATION_BATCH_ROWS`` rows, only the columns they need; results
  (element and unexpected counts, failing rows) are added up over the batches;
- aggregate expectations run on the small frame a batch computes inside DuckDB
  (reconciliation totals, rates against counts, completeness, volume, freshness): the
  compiled SQL of the dbt check model the batch names (compiled.py), with the thresholds of
  parameters.yml bound as parameters.

Incremental checks: a suite whose rows carry a batch stamp (``rows_since`` in its YAML) can
be given the stamp up to which its rows were already validated (``validated_through``, from the
run that produced the current published snapshot); its row-level expectations then read only
the rows written since, and a batch naming a ``since`` model reads that model instead of its
``model``, with the stamp bound as ``$validated_through`` (the fact tables' reconciliation over
the record numbers changed since). Other aggregate checks read whole tables.
``row_watermarks`` gives the stamps to record for the next run.

Memory is bounded by one record batch plus the aggregate frames (capped, see
``MAX_AGGREGATE_ROWS``). GE runs in an ephemeral context with analytics off: nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import Settings, load_settings
from pipelines.sqltext import ident, literal
from pipelines.validation import screening
from pipelines.validation.compiled import CompiledSql, CompiledSqlError
from pipelines.validation.suites import (
    ROWS,
    CheckBatch,
    CheckSpec,
    Expectation,
    Suite,
    load_suites,
    load_thresholds,
)

MAX_AGGREGATE_ROWS = 50_000
SHOWN_BATCH_ROWS = 5
ROWID_FETCH_THRESHOLD = 5000  # as dbt's macro rowid_fetch_threshold (the int_ models)
_SQL_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class CheckOutcome:
    """The result of one named check."""

    table: str
    name: str
    description: str
    passed: bool
    # the check's one severity: a failure of a blocking check stops the publish (ERROR), a
    # failure of any other check is a warning (WARN). Never depends on the data.
    blocking: bool
    observed: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    failing_sample: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # which rows the row-level expectations read: "all rows", or those above a stamp
    rows_scope: str = "all rows"
    # labels of the expectations that failed (observed/expected hold every expectation)
    failed: list[str] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return "ERROR" if self.blocking else "WARN"

    def as_metadata(self) -> dict[str, Any]:
        return jsonable(
            {
                "name": self.name,
                "table": self.table,
                "description": self.description,
                "blocking": self.blocking,
                "passed": self.passed,
                "severity": self.severity,
                "observed": self.observed,
                "expected": self.expected,
                "failing_sample": self.failing_sample,
                "errors": self.errors,
                "rows_scope": self.rows_scope,
                "failed": self.failed,
            }
        )


def jsonable(value: Any) -> Any:
    """Plain JSON values (numpy scalars, decimals, dates and NaN made printable)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    try:
        if value != value:  # pandas NA / NaT
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass
class _Tally:
    """One expectation's result, added up over record batches."""

    expectation: Expectation
    success: bool = True
    element_count: int = 0
    unexpected_count: int = 0
    observed: Any = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    unexpected_rows: list[Any] = field(default_factory=list)
    batch_rows: list[dict[str, Any]] | None = None
    errors: list[str] = field(default_factory=list)
    evaluated: bool = False


# one expectation's result: (expectation, success, GE's result dict, error message)
_Result = tuple[Expectation, bool, dict, str | None]


_preload: threading.Thread | None = None


def _import_great_expectations() -> None:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations  # noqa: F401
    from great_expectations.data_context.types import base  # noqa: F401
    from great_expectations.execution_engine import pandas_execution_engine  # noqa: F401


def _preloaded() -> None:
    # on failure the checks step imports again and reports what is wrong
    with contextlib.suppress(Exception):
        _import_great_expectations()


def preload_great_expectations() -> None:
    """Start importing great-expectations in a background thread. Its import costs a run about
    1.6 s (bench/RESULTS.md); the dbt step calls this before its build, so the import runs while
    dbt's subprocess works and the job process only waits. The checks step joins the thread
    before it imports (one thread imports at a time: no import-lock cycles)."""
    global _preload
    if _preload is None:
        _preload = threading.Thread(target=_preloaded, name="preload-ge", daemon=True)
        _preload.start()


class _GreatExpectations:
    """An ephemeral GE context with one pandas datasource; nothing is persisted."""

    def __init__(self, sample_rows: int) -> None:
        if _preload is not None:
            _preload.join()
        _import_great_expectations()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
        from great_expectations.execution_engine import pandas_execution_engine
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        # GE fingerprints every DataFrame under HASH_THRESHOLD bytes (pd.util.hash_pandas_object)
        # for a batch marker that nothing here reads: most of the time of the row checks of city
        # traffic (bench/RESULTS.md, city entry of a725f4c). A module constant is its only
        # switch; 0 turns the fingerprint off.
        pandas_execution_engine.HASH_THRESHOLD = 0

        self._gx = gx
        self._configuration = ExpectationConfiguration
        self.sample_rows = sample_rows
        context = gx.get_context(
            mode="ephemeral",
            project_config=DataContextConfig(
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            ),
        )
        asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset("frame")
        self._definition = asset.add_batch_definition_whole_dataframe("whole")

    def validate(
        self,
        frame,
        expectations: list[Expectation],
        parameters: Mapping[str, Any],
        index_columns: Iterable[str],
    ) -> list[_Result]:
        """Counts and observed values in GE's BASIC format; only expectations that failed are
        validated again in SUMMARY format for their failing rows by key. SUMMARY costs about
        twice BASIC per validation, and a night runs some fifty validations that pass."""
        index_columns = [c for c in index_columns if c in frame.columns]
        results = self._validate(frame, expectations, parameters, {"result_format": "BASIC"})
        failed = [e for e, success, _, error in results if not success and not error]
        if failed and index_columns:
            detailed = {
                id(r[0]): r
                for r in self._validate(
                    frame,
                    failed,
                    parameters,
                    {"result_format": "SUMMARY", "unexpected_index_column_names": index_columns},
                )
            }
            results = [detailed.get(id(r[0]), r) for r in results]
        return results

    def _validate(
        self,
        frame,
        expectations: list[Expectation],
        parameters: Mapping[str, Any],
        result_format: dict[str, Any],
    ) -> list[_Result]:
        suite = self._gx.ExpectationSuite(
            name="batch",
            expectations=[
                self._configuration(type=e.type, kwargs=e.kwargs, meta={"i": i}).to_domain_obj()
                for i, e in enumerate(expectations)
            ],
        )
        result_format = {**result_format, "partial_unexpected_count": self.sample_rows}
        batch = self._definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(
            suite, expectation_parameters=dict(parameters), result_format=result_format
        )
        out = []
        for r in validation.results:
            e = expectations[r.expectation_config.meta["i"]]
            info = r.exception_info or {}
            if "raised_exception" not in info and info:  # keyed by metric id
                info = next(iter(info.values()), {})
            error = info.get("exception_message") if info.get("raised_exception") else None
            out.append((e, bool(r.success), dict(r.result or {}), error))
        return out


def _to_pandas(data):
    """Arrow → pandas with DECIMAL/HUGEINT as float64, so GE compares numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name in data.schema.names:
        col = data.column(name)
        if pa.types.is_decimal(col.type):
            col = pc.cast(col, pa.float64())
        columns.append(col)
    table = pa.Table.from_arrays(columns, names=data.schema.names)
    return table.to_pandas()


def _rebatch(reader, rows: int):
    """Arrow batches of about ``rows`` rows. DuckDB hands out at most one row group (~120 k
    rows) per batch whatever size is asked for, and each GE validation has a fixed cost of
    about half a second (building its metric graph): fewer, larger batches."""
    import pyarrow as pa

    pending, count = [], 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending, schema=reader.schema)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending, schema=reader.schema)


def _sql_params(sql: str, values: Mapping[str, Any]) -> dict[str, Any]:
    names = set(_SQL_PARAM.findall(sql))
    missing = names - set(values)
    if missing:
        raise KeyError(f"SQL parameters without a value: {sorted(missing)}")
    return {n: values[n] for n in names}


_SQL_TYPE = re.compile(r"^[A-Z][A-Z0-9_ ]*(\(\d+(, ?\d+)?\))?$")


def rows_sql(suite: Suite, compiled: CompiledSql) -> str:
    """The SELECT the row-level expectations (and the screen, and the watermark) read: the
    table's own relation, or the check model the suite's YAML names for its rows."""
    if suite.rows_model:
        return compiled.sql(suite.rows_model)
    return f"SELECT * FROM {compiled.relation(suite.table)}"


class _TableRun:
    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        suite: Suite,
        compiled: CompiledSql,
        ge: _GreatExpectations,
        thresholds: Mapping[str, Any],
        batch_rows: int,
        sample_rows: int,
        since: Mapping[str, Any] | None = None,
    ) -> None:
        self.conn, self.suite, self.compiled, self.ge = conn, suite, compiled, ge
        self.batch_rows, self.sample_rows = batch_rows, sample_rows
        self.since = since if suite.rows_since and since else None
        self.rows_scope = "all rows"
        self.scoped_batches: set[str] = set()  # batches that read their since model
        self.parameters: dict[str, Any] = dict(thresholds)
        self.parameter_errors: dict[str, str] = {}
        self.tallies = {id(e): _Tally(e) for e in suite.expectations}

    # -- reading -----------------------------------------------------------------------------
    def _relation(self, sql: str):
        return self.conn.sql(sql, params=_sql_params(sql, self.parameters) or None)

    def _rows_sql(self) -> str:
        return rows_sql(self.suite, self.compiled)

    def _load_parameters(self) -> None:
        wanted = set().union(*(e.parameter_names() for e in self.suite.expectations))
        for name in sorted(wanted - set(self.parameters)):
            self.parameter_errors[name] = f"parameter {name} is not defined"

    def _fail(self, expectations: Iterable[Expectation], message: str) -> None:
        for e in expectations:
            tally = self.tallies[id(e)]
            tally.success = False
            tally.errors.append(message)

    def _record(self, results, collect_sample: bool) -> None:
        for e, success, result, error in results:
            tally = self.tallies[id(e)]
            tally.evaluated = True
            if error:
                tally.success = False
                tally.errors.append(error)
                continue
            tally.success = tally.success and success
            tally.element_count += int(result.get("element_count") or 0)
            tally.unexpected_count += int(result.get("unexpected_count") or 0)
            if "observed_value" in result:
                tally.observed = jsonable(result["observed_value"])
            if not success and len(tally.unexpected_rows) < self.sample_rows:
                rows = result.get("partial_unexpected_index_list") or [
                    {"value": v} for v in result.get("partial_unexpected_list") or []
                ]
                tally.unexpected_rows.extend(
                    jsonable(rows[: self.sample_rows - len(tally.unexpected_rows)])
                )
                if collect_sample:
                    tally.sample = list(tally.unexpected_rows)

    def _usable(self, expectations: list[Expectation]) -> list[Expectation]:
        usable = []
        for e in expectations:
            bad = [
                self.parameter_errors[p] for p in e.parameter_names() if p in self.parameter_errors
            ]
            if bad:
                self._fail([e], "; ".join(bad))
            else:
                usable.append(e)
        return usable

    # -- the two kinds of batch ---------------------------------------------------------------
    def run_rows(self, expectations: list[Expectation]) -> None:
        expectations = self._usable(expectations)
        if not expectations:
            return
        try:
            source = self._rows_sql()
            available = [
                d[0] for d in self._relation(f"SELECT * FROM ({source}) AS t LIMIT 0").description
            ]
        except (duckdb.Error, KeyError, CompiledSqlError) as exc:
            self._fail(expectations, f"reading {self.suite.table}: {exc}")
            return
        runnable = []
        for e in expectations:
            missing = [c for c in e.columns() if c not in available]
            if missing:
                self._fail([e], f"column(s) {missing} missing from {self.suite.table}")
            else:
                runnable.append(e)
        if not runnable:
            return
        key = [c for c in self.suite.key if c in available]
        needed = list(dict.fromkeys(key + [c for e in runnable for c in e.columns()]))
        sql = f"SELECT {', '.join(map(ident, needed))} FROM ({source}) AS t"
        since = self._since(available)
        if since:
            sql += f" WHERE {since}"
        try:
            reader = self._relation(sql).to_arrow_reader(self.batch_rows)
            seen = False
            for record_batch in _rebatch(reader, self.batch_rows):
                seen = True
                self._record(
                    self.ge.validate(_to_pandas(record_batch), runnable, self.parameters, key),
                    collect_sample=True,
                )
            if not seen:  # an empty table still goes through GE once, with its columns
                self._record(
                    self.ge.validate(
                        _to_pandas(reader.schema.empty_table()), runnable, self.parameters, key
                    ),
                    collect_sample=True,
                )
        except (duckdb.Error, KeyError) as exc:
            self._fail(runnable, f"reading {self.suite.table}: {exc}")

    def _since(self, available: list[str]) -> str:
        """The condition that keeps only rows written since the validated run ('' = all)."""
        if self.since is None or self.suite.rows_since not in available:
            return ""
        # rows validated by an earlier run are not read again
        self.rows_scope = f"rows with {self.suite.rows_since} > {self.since['value']}"
        return (
            f"{ident(self.suite.rows_since)} > CAST({literal(self.since['value'])} AS "
            f"{self.since['type']})"
        )

    def run_screen(self, batch: CheckBatch, expectations: list[Expectation]) -> None:
        """The personal-data screen of the rows (screening.py) as the batch frame."""
        try:
            source = self._rows_sql()
            available = [
                d[0] for d in self._relation(f"SELECT * FROM ({source}) AS t LIMIT 0").description
            ]
            summary, hits = screening.screen(
                self.conn, source, self._since(available), self.sample_rows
            )
        except (duckdb.Error, KeyError, CompiledSqlError) as exc:
            self._fail(expectations, f"batch {batch.name}: {exc}")
            return
        results = self.ge.validate(_to_pandas(summary), expectations, self.parameters, ())
        self._record(results, collect_sample=False)
        shown = jsonable(summary.to_pylist())
        for e, success, _, _ in results:
            self.tallies[id(e)].batch_rows = shown
            if not success:
                self.tallies[id(e)].sample = jsonable(hits)

    def run_batch(self, batch: CheckBatch, expectations: list[Expectation]) -> None:
        expectations = self._usable(expectations)
        if not expectations:
            return
        if batch.screen:
            self.run_screen(batch, expectations)
            return
        import pyarrow as pa

        model = batch.model
        if batch.since and self.since is not None:
            model = batch.since  # the same frame over what changed since the validated run
            self.parameters["validated_through"] = self.since["value"]
            self.scoped_batches.add(batch.name)
        try:
            reader = self._relation(self.compiled.sql(model)).to_arrow_reader(self.batch_rows)
            chunks, rows = [], 0
            for chunk in reader:  # never more than MAX_AGGREGATE_ROWS (+ one chunk) in memory
                chunks.append(chunk)
                rows += chunk.num_rows
                if rows > MAX_AGGREGATE_ROWS:
                    break
            table = pa.Table.from_batches(chunks, schema=reader.schema)
        except (duckdb.Error, KeyError, CompiledSqlError) as exc:
            self._fail(expectations, f"batch {batch.name}: {exc}")
            return
        if table.num_rows > MAX_AGGREGATE_ROWS:
            self._fail(
                expectations,
                f"batch {batch.name} returned more than "
                f"{MAX_AGGREGATE_ROWS} rows: aggregate it in SQL",
            )
            return
        frame = _to_pandas(table)
        results = self.ge.validate(frame, expectations, self.parameters, batch.key)
        self._record(results, collect_sample=batch.sample is None)
        for e in expectations:  # GE reports no observed value for this one: keep what is there
            if (
                e.type == "expect_column_distinct_values_to_contain_set"
                and e.kwargs.get("column") in frame.columns
            ):
                self.tallies[id(e)].observed = jsonable(
                    sorted(frame[e.kwargs["column"]].dropna().unique().tolist())
                )
        if table.num_rows <= SHOWN_BATCH_ROWS:  # small summaries are shown as observed
            shown = jsonable(table.to_pylist())
            for e in expectations:
                self.tallies[id(e)].batch_rows = shown
        if batch.sample and not all(success for _, success, _, _ in results):
            try:
                sample = self._relation(
                    f"SELECT * FROM ({self.compiled.sql(batch.sample)}) "
                    f"AS s LIMIT {self.sample_rows}"
                )
                names = [d[0] for d in sample.description]
                rows = [dict(zip(names, r, strict=True)) for r in sample.fetchall()]
            except (duckdb.Error, KeyError, CompiledSqlError) as exc:
                rows = [{"error": f"sample of {batch.name}: {exc}"}]
            for e, success, _, _ in results:
                if not success:
                    self.tallies[id(e)].sample = jsonable(rows)

    def run(self) -> list[CheckOutcome]:
        self._load_parameters()
        by_batch: dict[str, list[Expectation]] = {}
        for e in self.suite.expectations:
            by_batch.setdefault(e.batch, []).append(e)
        for name, expectations in by_batch.items():
            if name == ROWS:
                self.run_rows(expectations)
            else:
                self.run_batch(self.suite.batches[name], expectations)
        return [self._outcome(spec) for spec in self.suite.specs()]

    # -- outcome -------------------------------------------------------------------------------
    def _expected(self, e: Expectation) -> dict[str, Any]:
        shown = {}
        for k, v in e.kwargs.items():
            if k in ("column", "column_A", "column_B", "condition_parser", "row_condition"):
                continue
            if isinstance(v, Mapping) and "$PARAMETER" in v:
                resolved = self.parameters.get(v["$PARAMETER"])
                if isinstance(resolved, list) and len(resolved) > 20:
                    resolved = f"{v['$PARAMETER']} ({len(resolved)} values)"
                v = resolved
            shown[k] = v
        return jsonable(shown)

    def _observed(self, tally: _Tally) -> Any:
        e = tally.expectation
        if tally.errors and not tally.evaluated:
            return {"error": tally.errors[0]}
        if e.type == "expect_column_distinct_values_to_contain_set":
            present = set(tally.observed or [])
            wanted = (
                self.parameters.get(e.kwargs["value_set"]["$PARAMETER"])
                if isinstance(e.kwargs.get("value_set"), Mapping)
                else e.kwargs.get("value_set")
            )
            return {"missing": sorted(set(wanted or []) - present), "present": len(present)}
        if tally.observed is not None:
            observed: Any = tally.observed
        else:
            observed = {"unexpected": tally.unexpected_count, "of": tally.element_count}
        if tally.batch_rows is not None and e.batch != ROWS and len(tally.batch_rows) == 1:
            # a one-row summary (counts, totals): show every figure, not only the tested one
            return {"value": observed, "batch": tally.batch_rows[0]}
        if isinstance(observed, dict) and e.batch != ROWS and tally.unexpected_rows:
            observed["rows"] = tally.unexpected_rows  # e.g. reconciliation: level, metric, totals
        return observed

    def _outcome(self, spec: CheckSpec) -> CheckOutcome:
        tallies = [
            t for t in self.tallies.values() if self.suite.check_of(t.expectation) == spec.name
        ]
        failed = [t for t in tallies if not t.success]
        sample: list[dict[str, Any]] = []
        for t in failed:
            for row in t.sample:
                if len(sample) < self.sample_rows:
                    sample.append({"expectation": t.expectation.label, **row})
            observed = self._observed(t)
            if t.expectation.type == "expect_column_distinct_values_to_contain_set" and observed:
                sample.extend(
                    {"expectation": t.expectation.label, "missing": m}
                    for m in observed.get("missing", [])[: self.sample_rows]
                )
        uses_rows = any(
            t.expectation.batch == ROWS or self._screens(t.expectation) for t in tallies
        )
        scope = "aggregate"
        if any(t.expectation.batch in self.scoped_batches for t in tallies):
            scope = f"aggregate of what changed since {self.since['value']}"
        return CheckOutcome(
            table=self.suite.table,
            name=spec.name,
            description=spec.description,
            passed=not failed,
            blocking=spec.blocking,
            observed={t.expectation.label: self._observed(t) for t in tallies},
            expected={t.expectation.label: self._expected(t.expectation) for t in tallies},
            failing_sample=sample[: self.sample_rows],
            errors=[err for t in tallies for err in t.errors],
            rows_scope=self.rows_scope if uses_rows else scope,
            failed=[t.expectation.label for t in failed],
        )

    def _screens(self, e: Expectation) -> bool:
        batch = self.suite.batches.get(e.batch)
        return batch is not None and batch.screen is not None


def row_watermarks(
    conn: duckdb.DuckDBPyConnection, suites_dir: Path, compiled: CompiledSql
) -> dict[str, Any]:
    """Per table with ``rows_since``: the largest stamp now in its rows and the stamp's SQL
    type. Recorded by a run whose checks passed, it is the next run's ``validated_through``."""
    marks: dict[str, Any] = {}
    for suite in load_suites(suites_dir):
        if not suite.rows_since:
            continue
        column = ident(suite.rows_since)
        try:
            value, kind = conn.execute(
                f"SELECT CAST(max({column}) AS VARCHAR), typeof(max({column})) "
                f"FROM ({rows_sql(suite, compiled)}) AS t"
            ).fetchall()[0]
        except (duckdb.Error, CompiledSqlError):
            continue  # no such table, column or model: the checks report it; nothing to record
        if value is not None:
            marks[suite.table] = {"column": suite.rows_since, "value": value, "type": kind}
    return marks


def run_checks(
    conn: duckdb.DuckDBPyConnection,
    suites_dir: Path,
    compiled: CompiledSql,
    *,
    settings: Settings | None = None,
    batch_rows: int | None = None,
    sample_rows: int | None = None,
    thresholds: Mapping[str, str] | None = None,
    tables: Iterable[str] | None = None,
    validated_through: Mapping[str, Any] | None = None,
) -> list[CheckOutcome]:
    """Every named check of every suite in ``suites_dir`` (or of ``tables`` only), evaluated on
    ``conn``'s data with the SQL dbt compiled (``compiled``). Rows per record batch, failing
    rows kept and threshold overrides (environment variable -> text) come from ``settings``
    (default: load_settings()) unless given. ``validated_through`` (``row_watermarks`` of an
    earlier run whose checks all passed): row-level expectations of those tables read only
    rows stamped above it."""
    if batch_rows is None or sample_rows is None or thresholds is None:
        settings = settings or load_settings()
        batch_rows = batch_rows or settings.validation_batch_rows
        sample_rows = sample_rows or settings.validation_sample_rows
        thresholds = settings.check_thresholds if thresholds is None else thresholds
    thresholds_by_name = load_thresholds(suites_dir, thresholds)
    ge = _GreatExpectations(sample_rows)
    outcomes: list[CheckOutcome] = []
    wanted = set(tables) if tables is not None else None
    # The since checks fetch a night's few earlier rows by rowid (macro check_fact_rows): up to
    # this many become an IN filter that prunes row groups, as in the int_ models' pre-hook.
    conn.execute(f"SET dynamic_or_filter_threshold = {ROWID_FETCH_THRESHOLD}")
    try:
        for suite in load_suites(suites_dir):
            if wanted is not None and suite.table not in wanted:
                continue
            since = (validated_through or {}).get(suite.table)
            if since is not None and (
                since.get("column") != suite.rows_since
                or not _SQL_TYPE.match(str(since.get("type", "")))
            ):
                since = None  # recorded for another column or unreadable: validate every row
            outcomes.extend(
                _TableRun(
                    conn, suite, compiled, ge, thresholds_by_name, batch_rows, sample_rows, since
                ).run()
            )
    finally:
        conn.execute("RESET dynamic_or_filter_threshold")
    return outcomes
