"""The validation report of a run: one plain HTML page listing every check."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.4em 0 1.2em}
td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}.PASS{color:#17692f}.FAIL{color:#b00020;font-weight:bold}
.WARN{color:#a05a00;font-weight:bold}pre{margin:0;white-space:pre-wrap;font-size:.85em}
"""


def _pre(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    return f"<pre>{html.escape(text)}</pre>"


def _sample(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(outcomes: Sequence[Any], run_id: str) -> str:
    metas = [o.as_metadata() for o in outcomes]
    failed_blocking = [m for m in metas if not m["passed"] and m["blocking"]]
    failed_warn = [m for m in metas if not m["passed"] and not m["blocking"]]
    verdict = ("BLOCKED: blocking checks failed, nothing is published" if failed_blocking
               else "all blocking checks passed")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Validation report {html.escape(run_id)}</title><style>{STYLE}</style></head>",
        f"<body><h1>Validation report</h1><p>run <code>{html.escape(run_id)}</code>, "
        f"written {datetime.now(UTC).isoformat(timespec='seconds')}</p>",
        f"<p><b>{html.escape(verdict)}</b>: {len(metas)} checks, "
        f"{len(metas) - len(failed_blocking) - len(failed_warn)} passed, "
        f"{len(failed_blocking)} failed (blocking), {len(failed_warn)} failed (warning)</p>",
        "<table><tr><th>table</th><th>check</th><th>status</th><th>severity</th></tr>",
    ]
    for m in metas:
        status = "PASS" if m["passed"] else ("FAIL" if m["blocking"] else "WARN")
        anchor = html.escape(f"{m['table']}.{m['name']}")
        parts.append(
            f"<tr><td>{html.escape(m['table'])}</td><td><a href='#{anchor}'>"
            f"{html.escape(m['name'])}</a></td><td class='{status}'>{status}</td>"
            f"<td>{m['severity'] if not m['passed'] else ''}</td></tr>")
    parts.append("</table>")
    for m in metas:
        status = "PASS" if m["passed"] else ("FAIL" if m["blocking"] else "WARN")
        anchor = html.escape(f"{m['table']}.{m['name']}")
        parts.append(
            f"<h3 id='{anchor}'>{html.escape(m['table'])} · {html.escape(m['name'])} "
            f"<span class='{status}'>{status}</span></h3>"
            f"<p>{html.escape(m.get('description') or '')}</p>"
            "<table><tr><th>expectation</th><th>observed</th><th>expected</th></tr>")
        for label in m["expected"]:
            parts.append(f"<tr><td>{html.escape(label)}</td><td>{_pre(m['observed'].get(label))}"
                         f"</td><td>{_pre(m['expected'][label])}</td></tr>")
        parts.append("</table>")
        if m.get("errors"):
            parts.append("<p class='FAIL'>errors:</p>" + _pre(m["errors"]))
        if m["failing_sample"]:
            parts.append("<p>failing rows (sample):</p>" + _sample(m["failing_sample"]))
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(outcomes: Sequence[Any], reports_dir: Path, run_id: str) -> Path:
    """Write ``reports_dir/run_id/report.html`` (replaced atomically) and return its path."""
    path = Path(reports_dir) / run_id / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_report(outcomes, run_id), encoding="utf-8")
    tmp.replace(path)
    return path
