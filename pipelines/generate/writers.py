"""Byte-level writers: CSV in a given encoding, and a minimal, deterministic .xlsx.

The .xlsx writer produces a real SpreadsheetML package (stored, not deflated, with fixed
timestamps, so the bytes depend only on the content): inline strings, numbers, real date and
datetime cells (styled), merged cells and several sheets. openpyxl reads it like an Excel
export.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from pipelines.generate.model import excel_serial

ZIP_TIME = (2022, 1, 1, 0, 0, 0)


def write_csv(
    path: Path,
    rows: Iterable[Sequence[str]],
    encoding: str,
    lineterminator: str = "\r\n",
    chunk: int = 5000,
    plain: bool = False,
) -> None:
    """plain: every cell is a str without separators, quotes or line breaks (no quoting
    needed), written by a fast join instead of the csv module."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if plain:
        with open(path, "w", encoding=encoding, newline="") as f:
            buf: list[str] = []
            join = ",".join
            for row in rows:
                buf.append(join(row))
                if len(buf) >= chunk:
                    buf.append("")
                    f.write(lineterminator.join(buf))
                    buf.clear()
            if buf:
                buf.append("")
                f.write(lineterminator.join(buf))
        return
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator=lineterminator)
        buf: list[Sequence[str]] = []
        for row in rows:
            buf.append(row)
            if len(buf) >= chunk:
                writer.writerows(buf)
                buf.clear()
        writer.writerows(buf)


# --------------------------------------------------------------------------- xlsx


@dataclass
class Sheet:
    name: str
    rows: list[list] = field(default_factory=list)  # None = empty cell
    merges: list[str] = field(default_factory=list)  # "A1:H1"


def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="2"><v>{round(excel_serial(value), 8)!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="1"><v>{excel_serial(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(str(value))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_NS}"><numFmts count="1"><numFmt numFmtId="164" '
    'formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="1"><font><sz val="11"/>'
    '<name val="宋体"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1">'
    "<border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs "
    'count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def _sheet_xml(sheet: Sheet) -> str:
    width = max((len(r) for r in sheet.rows), default=1)
    parts = [
        f'{_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_REL}">',
        f'<dimension ref="A1:{col_letter(max(width, 1) - 1)}{max(len(sheet.rows), 1)}"/>',
        "<sheetData>",
    ]
    letters = [col_letter(i) for i in range(width)]
    for r, row in enumerate(sheet.rows, start=1):
        cells = "".join(_cell(f"{letters[c]}{r}", v) for c, v in enumerate(row))
        parts.append(f'<row r="{r}">{cells}</row>' if cells else f'<row r="{r}"/>')
    parts.append("</sheetData>")
    if sheet.merges:
        parts.append(f'<mergeCells count="{len(sheet.merges)}">')
        parts.extend(f'<mergeCell ref="{m}"/>' for m in sheet.merges)
        parts.append("</mergeCells>")
    parts.append("</worksheet>")
    return "".join(parts)


def xlsx_bytes(sheets: list[Sheet]) -> bytes:
    n = len(sheets)
    types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    content_types = (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{types}</Types>"
    )
    rels = (
        f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    wb_sheets = "".join(
        f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    workbook = (
        f'{_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{wb_sheets}</sheets></workbook>'
    )
    wb_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    wb_rels = (
        f'{_HEAD}<Relationships xmlns="{_PKG}">{wb_rels}<Relationship Id="rId{n + 1}" '
        f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    )
    parts = [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", wb_rels),
        ("xl/styles.xml", _STYLES),
    ]
    parts += [(f"xl/worksheets/sheet{i}.xml", _sheet_xml(s)) for i, s in enumerate(sheets, start=1)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()
