"""``python -m pipelines.validation [DIR]``: rewrite the suite files in their canonical form."""

import sys
from pathlib import Path

from pipelines.validation.suites import format_suites

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "expectations"
for path in format_suites(folder):
    print(f"formatted {path}")
