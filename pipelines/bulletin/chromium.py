"""Headless Chromium, when present: print a bulletin to PDF, take a screenshot, read the DOM.

Debian's `chromium` package is what `.ci/run` installs; WAREHOUSE_CHROMIUM names another
binary. Nothing here downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome-headless-shell",
)
TIMEOUT = 120  # seconds for one page


class ChromiumMissing(RuntimeError):
    pass


def find_chromium() -> str | None:
    configured = os.environ.get("WAREHOUSE_CHROMIUM")
    if configured:
        return shutil.which(configured) or (configured if Path(configured).exists() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], page: Path) -> subprocess.CompletedProcess:
    binary = find_chromium()
    if binary is None:
        raise ChromiumMissing(
            "no headless Chromium found (install Debian's `chromium` "
            "package, or set WAREHOUSE_CHROMIUM to a Chromium binary)"
        )
    with tempfile.TemporaryDirectory(prefix="bulletin-chromium-") as profile:
        cmd = [
            binary,
            "--headless",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            # the page must need nothing from outside: refuse every host name
            "--host-resolver-rules=MAP * ~NOTFOUND",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            *args,
            page.resolve().as_uri(),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return result


def print_pdf(page: Path, pdf: Path) -> Path:
    """The page printed to PDF by headless Chromium (raises ChromiumMissing without one)."""
    tmp = pdf.with_name(f".{pdf.name}.{os.getpid()}.tmp")
    result = _run([f"--print-to-pdf={tmp}", "--no-pdf-header-footer"], page)
    if result.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"Chromium could not print {page}: {result.stderr.strip()[-400:]}")
    os.replace(tmp, pdf)
    return pdf


def screenshot(page: Path, png: Path, width: int = 1100, height: int = 1600) -> Path:
    result = _run([f"--screenshot={png}", f"--window-size={width},{height}"], page)
    if result.returncode != 0 or not png.exists():
        raise RuntimeError(f"Chromium could not screenshot {page}: {result.stderr.strip()[-400:]}")
    return png


def dump_dom(page: Path) -> str:
    """The page's DOM after its script ran, as Chromium serialises it."""
    result = _run(["--dump-dom"], page)
    if result.returncode != 0:
        raise RuntimeError(f"Chromium could not load {page}: {result.stderr.strip()[-400:]}")
    return result.stdout
