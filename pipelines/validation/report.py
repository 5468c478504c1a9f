"""The validation report of a run: one plain HTML page, failures and warnings first.

Checks are counted one way everywhere (``check_counts``): each check has one severity, a failed
blocking check is a blocking failure, a failed warning check a warning. The terminal, this
report and the Dagster UI (one asset check per check) show the same totals. Observed values and
thresholds are written as text (``describe_observed``, ``describe_expected``), also used by the
run summary. A landing section lists the files whose latest version failed, the rows in
quarantine by reason and, once ``marts.mart_reporting_coverage`` exists, the coverage gaps.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:80em}
table{border-collapse:collapse;margin:.4em 0 1.2em}
td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}.PASS{color:#17692f}.FAIL{color:#b00020;font-weight:bold}
.WARN{color:#a05a00;font-weight:bold}.verdict{font-size:1.1em}
.muted{color:#666}
"""
MAX_LISTED = 12  # values of a long list shown before "... (N more)"


# -- counting ---------------------------------------------------------------------------------


def check_counts(metas: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """{'checks', 'passed', 'warnings', 'blocking'} from outcome metadata."""
    metas = list(metas)
    warnings = sum(1 for m in metas if not m["passed"] and not m["blocking"])
    blocking = sum(1 for m in metas if not m["passed"] and m["blocking"])
    return {
        "checks": len(metas),
        "passed": len(metas) - warnings - blocking,
        "warnings": warnings,
        "blocking": blocking,
    }


def counts_text(counts: Mapping[str, int]) -> str:
    """'68 checks: 62 passed, 6 warnings, 0 blocking failures' (the terminal says the same)."""
    w, b = counts["warnings"], counts["blocking"]
    return (
        f"{counts['checks']:,} checks: {counts['passed']:,} passed, {w:,} "
        f"warning{'s' if w != 1 else ''}, {b:,} blocking failure{'s' if b != 1 else ''}"
    )


def status_of(meta: Mapping[str, Any]) -> str:
    return "PASS" if meta["passed"] else ("FAIL" if meta["blocking"] else "WARN")


# -- values as text ---------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """A value as an operator reads it: 12,345; 0.0312; a, b, c; k v."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.6g}"
    if isinstance(value, list | tuple):
        shown = ", ".join(fmt(v) for v in value[:MAX_LISTED])
        more = f" ... ({len(value) - MAX_LISTED} more)" if len(value) > MAX_LISTED else ""
        return (shown + more) if value else "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {fmt(v)}" for k, v in value.items())
    return str(value)


def describe_expected(expected: Any) -> str:
    """GE kwargs as a condition: '= 0', 'at most 2', 'between 0 and 0.05', 'one of: ...'."""
    if not isinstance(expected, Mapping):
        return fmt(expected)
    parts = []
    low, high = expected.get("min_value"), expected.get("max_value")
    if low is not None and high is not None:
        parts.append(f"= {fmt(low)}" if low == high else f"between {fmt(low)} and {fmt(high)}")
    elif low is not None:
        parts.append(f"at least {fmt(low)}")
    elif high is not None:
        parts.append(f"at most {fmt(high)}")
    for key in ("value_set", "column_set", "column_list"):
        if key in expected:
            values = expected[key]
            label = {
                "value_set": "one of",
                "column_set": "columns",
                "column_list": "columns in order",
            }[key]
            parts.append(f"{label}: {fmt(values)}")
    if "value" in expected:
        parts.append(f"= {fmt(expected['value'])}")
    if "regex" in expected:
        parts.append(f"matching {expected['regex']}")
    if "or_equal" in expected:
        parts.append("or equal" if expected["or_equal"] else "strictly")
    if expected.get("mostly") not in (None, 1, 1.0):
        parts.append(f"in at least {float(expected['mostly']):.0%} of rows")
    known = {
        "min_value",
        "max_value",
        "value_set",
        "column_set",
        "column_list",
        "value",
        "regex",
        "or_equal",
        "mostly",
        "strict_min",
        "strict_max",
        "result_format",
        "exact_match",
        "ignore_row_if",
    }
    parts.extend(f"{k} {fmt(v)}" for k, v in expected.items() if k not in known)
    return "; ".join(parts) or "(no parameters)"


def describe_observed(observed: Any, brief: bool = False) -> str:
    """What a check saw, in words: '3 of 60 rows unexpected', '1,660 (window_start ...)';
    `brief` leaves out the aggregate row behind a value."""
    if isinstance(observed, Mapping):
        if "error" in observed and len(observed) == 1:
            return f"error: {observed['error']}"
        if "unexpected" in observed and "of" in observed:
            text = f"{fmt(observed['unexpected'])} of {fmt(observed['of'])} rows unexpected"
            if observed.get("rows"):
                text += f" (e.g. {fmt(observed['rows'][0])})"
            return text
        if "missing" in observed and "present" in observed:
            missing = observed["missing"]
            return (
                f"missing: {fmt(missing)} ({fmt(observed['present'])} present)"
                if missing
                else f"none missing ({fmt(observed['present'])} present)"
            )
        if "value" in observed and "batch" in observed:
            if brief:
                return fmt(observed["value"])
            return f"{fmt(observed['value'])} ({fmt(observed['batch'])})"
        return fmt(dict(observed))
    return fmt(observed)


def failure_text(meta: Mapping[str, Any], limit: int = 1, brief: bool = True) -> str:
    """'<label>: <observed>, expected <condition>' for the first failed expectation(s)."""
    labels = list(meta.get("failed") or []) or [
        k for k in meta.get("expected", {}) if not meta["passed"]
    ]
    parts = []
    for label in labels[:limit]:
        observed = meta.get("observed", {}).get(label)
        expected = meta.get("expected", {}).get(label)
        parts.append(
            f"{label}: {describe_observed(observed, brief)}, expected {describe_expected(expected)}"
        )
    if meta.get("errors") and not parts:
        parts.append(f"error: {meta['errors'][0]}")
    more = len(labels) - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


# -- dbt's tests --------------------------------------------------------------------------------


def _by_status(results: list[Mapping[str, Any]]) -> dict[str, int]:
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r.get("status", "?")] = by_status.get(r.get("status", "?"), 0) + 1
    return by_status


def _test_name(unique_id: str) -> str:
    """test.<project>.<name>.<hash> (a data test), unit_test.<project>.<model>.<name>."""
    parts = unique_id.split(".")
    return parts[2] if parts[0] == "test" and len(parts) > 2 else parts[-1]


def dbt_test_results(run_results: Path) -> dict[str, Any] | None:
    """dbt's tests of the last `dbt build` (target/run_results.json): data tests and unit
    tests, counts by status, those that failed or warned (``not_passed``; a skipped test is
    only counted: its model did not build) and the models and seeds that failed to build
    (``failed_nodes``, with the first line of dbt's message)."""
    try:
        data = json.loads(Path(run_results).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    results = data.get("results", [])
    tests = [r for r in results if str(r.get("unique_id", "")).startswith("test.")]
    units = [r for r in results if str(r.get("unique_id", "")).startswith("unit_test.")]
    failed = [
        {
            "test": _test_name(r["unique_id"]),
            "status": r.get("status"),
            "failures": r.get("failures"),
            "message": r.get("message"),
        }
        for r in tests + units
        if r.get("status") not in ("pass", "success", "skipped")
    ]
    failed_nodes = [
        {
            "node": str(r["unique_id"]).split(".")[-1],
            "message": next(iter(str(r.get("message") or "").strip().splitlines()), ""),
        }
        for r in results
        if str(r.get("unique_id", "")).split(".")[0] in ("model", "seed", "snapshot")
        and r.get("status") == "error"
    ]
    return {
        "tests": len(tests),
        "by_status": _by_status(tests),
        "unit_tests": len(units),
        "unit_by_status": _by_status(units),
        "not_passed": failed,
        "failed_nodes": failed_nodes,
        "generated_at": (data.get("metadata") or {}).get("generated_at"),
    }


def _status_text(count: int, what: str, by: Mapping[str, int]) -> str:
    passed = by.get("pass", 0) + by.get("success", 0)
    text = f"{count:,} {what}: {passed:,} passed"
    if by.get("warn"):
        text += f", {by['warn']:,} warnings"
    failed = by.get("fail", 0) + by.get("error", 0)
    if failed:
        text += f", {failed:,} FAILED"
    if by.get("skipped"):
        text += f", {by['skipped']:,} skipped"
    return text


def dbt_tests_text(results: Mapping[str, Any] | None) -> str:
    """'225 dbt tests: 225 passed; 3 dbt unit tests: 3 passed'."""
    if not results:
        return "dbt tests: no results"
    text = _status_text(results["tests"], "dbt tests", results["by_status"])
    if results.get("unit_tests"):
        text += "; " + _status_text(
            results["unit_tests"], "dbt unit tests", results["unit_by_status"]
        )
    return text


# -- HTML -------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(fmt(value) if not isinstance(value, str) else value)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return ""
    columns = list(columns or dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(row.get(c, ''))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _check_section(m: Mapping[str, Any]) -> str:
    status = status_of(m)
    anchor = html.escape(f"{m['table']}.{m['name']}")
    failed = set(m.get("failed") or [])
    severity = "blocking" if m["blocking"] else "warning"
    parts = [
        f"<h3 id='{anchor}'>{html.escape(m['table'])} · {html.escape(m['name'])} "
        f"<span class='{status}'>{status}</span> <span class='muted'>({severity}; "
        f"{html.escape(m.get('rows_scope') or '')})</span></h3>",
        f"<p>{html.escape(m.get('description') or '')}</p>",
        "<table><tr><th>expectation</th><th>result</th><th>observed</th><th>expected</th></tr>",
    ]
    labels = sorted(m["expected"], key=lambda label: label not in failed)  # failed first
    for label in labels:
        outcome = ("FAIL" if m["blocking"] else "WARN") if label in failed else "PASS"
        parts.append(
            f"<tr><td>{html.escape(label)}</td><td class='{outcome}'>{outcome}</td>"
            f"<td>{html.escape(describe_observed(m['observed'].get(label)))}</td>"
            f"<td>{html.escape(describe_expected(m['expected'][label]))}</td></tr>"
        )
    parts.append("</table>")
    if m.get("errors"):
        parts.append(
            "<p class='FAIL'>errors:</p><ul>"
            + "".join(f"<li>{html.escape(str(e))}</li>" for e in m["errors"])
            + "</ul>"
        )
    if m.get("failing_sample"):
        parts.append("<p>failing rows (sample):</p>" + _table(m["failing_sample"]))
    return "".join(parts)


def _landing_section(landing: Mapping[str, Any] | None) -> str:
    parts = ["<h2 id='landing'>Landing</h2>"]
    if not landing:
        return parts[0] + "<p class='muted'>no ledger</p>"
    failures = landing.get("failures") or {}
    open_ = failures.get("open") or []
    parts.append(f"<h3>Files whose latest version failed ({failures.get('open_total', 0)})</h3>")
    if open_:
        parts.append(
            "<p>Set aside with their reason; fix or re-export them (a new version at "
            "the same path lands by itself).</p>"
        )
        parts.append(
            _table(
                [
                    {
                        "file": f["path"],
                        "record type": f["record_type"],
                        "reason": f["message"],
                        "first seen": f["first_seen_at"],
                        "retried every run": "yes" if f.get("retry") else "",
                    }
                    for f in open_
                ]
            )
        )
    else:
        parts.append("<p class='PASS'>none</p>")
    if failures.get("fixed_total"):
        parts.append(f"<p>{failures['fixed_total']} earlier failure(s) fixed by a re-export.</p>")
    quarantine = landing.get("quarantine") or []
    this_run = {(q["stage"], q["reason"]): q["rows"] for q in landing.get("quarantine_run") or []}
    parts.append(f"<h3>Rows in quarantine by reason ({sum(q['rows'] for q in quarantine):,})</h3>")
    if quarantine:
        parts.append(
            _table(
                [
                    {
                        "stage": q["stage"],
                        "reason": q["reason"],
                        "rows": q["rows"],
                        "of which this run": this_run.get((q["stage"], q["reason"]), 0),
                    }
                    for q in quarantine
                ]
            )
        )
        parts.append(
            "<p class='muted'>Each row with its file, sheet, line and message: "
            "<code>warehouse quarantine --reason REASON</code>.</p>"
        )
    else:
        parts.append("<p class='PASS'>none</p>")
    parts.append(_coverage_section(landing.get("coverage_gaps")))
    return "".join(parts)


def _coverage_section(gaps: Mapping[str, Any] | None) -> str:
    """Coverage gaps: station-days MISSING, LATE or PARTIAL in marts.mart_reporting_coverage
    (pipelines.opsview.coverage_gaps); said plainly while that mart does not exist yet."""
    if gaps is None:
        return (
            "<h3>Coverage gaps</h3><p class='muted'>not available: "
            "marts.mart_reporting_coverage is not built yet</p>"
        )
    head = (
        f"<h3>Coverage gaps ({gaps['total']:,}: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(gaps["by_status"].items()))
        + ")</h3>"
    )
    if not gaps["rows"]:
        return head + "<p class='PASS'>none</p>"
    shown = len(gaps["rows"])
    note = f"<p class='muted'>newest {shown} shown</p>" if shown < gaps["total"] else ""
    return (
        head
        + _table(gaps["rows"], ["day", "station_name", "station_id", "record_type", "status"])
        + note
    )


def render_report(
    outcomes: Sequence[Any],
    run_id: str,
    *,
    landing: Mapping[str, Any] | None = None,
    dbt_tests: Mapping[str, Any] | None = None,
) -> str:
    metas = [o.as_metadata() if hasattr(o, "as_metadata") else dict(o) for o in outcomes]
    counts = check_counts(metas)
    blocking = [m for m in metas if status_of(m) == "FAIL"]
    warnings = [m for m in metas if status_of(m) == "WARN"]
    passed = [m for m in metas if m["passed"]]
    verdict = (
        "BLOCKED: blocking checks failed, nothing is published"
        if blocking
        else "all blocking checks passed"
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Validation report {html.escape(run_id)}</title><style>{STYLE}</style></head>",
        f"<body><h1>Validation report</h1><p>run <code>{html.escape(run_id)}</code>, "
        f"written {datetime.now(UTC).isoformat(timespec='seconds')}</p>",
        f"<p class='verdict'><b>{html.escape(verdict)}</b>: {html.escape(counts_text(counts))}</p>",
        f"<p>{html.escape(dbt_tests_text(dbt_tests))} (run by <code>dbt build</code> before "
        "these checks; each is an asset check in the Dagster UI as well)</p>",
        "<p><a href='#blocking'>blocking failures</a> · <a href='#warnings'>warnings</a> · "
        "<a href='#landing'>landing</a> · <a href='#passed'>passed checks</a></p>",
    ]
    parts.append(f"<h2 id='blocking'>Blocking failures ({len(blocking)})</h2>")
    parts.extend(_check_section(m) for m in blocking)
    if not blocking:
        parts.append("<p class='PASS'>none</p>")
    parts.append(f"<h2 id='warnings'>Warnings ({len(warnings)})</h2>")
    parts.extend(_check_section(m) for m in warnings)
    if not warnings:
        parts.append("<p class='PASS'>none</p>")
    if dbt_tests and dbt_tests.get("not_passed"):
        parts.append("<h3>dbt tests that did not pass</h3>" + _table(dbt_tests["not_passed"]))
    parts.append(_landing_section(landing))
    parts.append(f"<h2 id='passed'>Passed checks ({len(passed)})</h2>")
    parts.append(
        _table(
            [
                {
                    "table": m["table"],
                    "check": m["name"],
                    "severity": "blocking" if m["blocking"] else "warning",
                    "rows read": m.get("rows_scope", ""),
                }
                for m in passed
            ]
        )
    )
    parts.append("<details><summary>every passed check in detail</summary>")
    parts.extend(_check_section(m) for m in passed)
    parts.append("</details></body></html>\n")
    return "".join(parts)


def write_report(
    outcomes: Sequence[Any],
    reports_dir: Path,
    run_id: str,
    *,
    landing: Mapping[str, Any] | None = None,
    dbt_tests: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``reports_dir/run_id/report.html`` (replaced atomically) and return its path."""
    path = Path(reports_dir) / run_id / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(
        render_report(outcomes, run_id, landing=landing, dbt_tests=dbt_tests), encoding="utf-8"
    )
    tmp.replace(path)
    return path
