"""One bulletin, from the published catalog to files: what `warehouse bulletin` calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.bulletin.build import build_bulletin
from pipelines.bulletin.chromium import ChromiumMissing, print_pdf
from pipelines.bulletin.reader import DEFAULT_ATTEMPTS, DEFAULT_DELAY, open_catalog
from pipelines.bulletin.render import BulletinFiles, render_text, write_files


@dataclass
class BulletinOutput:
    files: BulletinFiles
    version: str
    headline: str
    pdf: Path | None = None
    pdf_problem: str | None = None  # why no PDF was written when one was asked for
    warnings: list[str] = field(default_factory=list)


def write_bulletin(
    published_dir: Path,
    campaign_id: str,
    unit: str | None = None,
    *,
    period: str | None = None,
    start: date | None = None,
    end: date | None = None,
    out_dir: Path = Path("."),
    pdf: bool = False,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY,
) -> BulletinOutput:
    """Write <campaign>_<unit>_<from>-<to>.html and .txt (and .pdf) into out_dir. Raises
    BulletinError with a one-line message on bad input or an unreadable catalog."""
    with open_catalog(published_dir, attempts=attempts, delay=delay) as cat:
        b = build_bulletin(cat, campaign_id, unit, period_kind=period, start=start, end=end)
    files = write_files(b, out_dir)
    out = BulletinOutput(
        files=files, version=b.version, headline=render_text(b).strip(), warnings=list(b.warnings)
    )
    if pdf:
        try:
            out.pdf = print_pdf(files.html, files.html.with_suffix(".pdf"))
        except ChromiumMissing as exc:
            out.pdf_problem = f"PDF not written: {exc}"
        except (RuntimeError, OSError) as exc:
            out.pdf_problem = f"PDF not written: {exc}"
    return out
