"""File hashing, in one place: the sha256 of a file's bytes, read in blocks.

Landing's plan names raw file versions with it (``pipelines.landing.plan``), the publisher
checks snapshot files against their manifest with it (``pipelines.publish``), and the
generator records the hash of each file it writes in ``truth.json`` (``pipelines.generate``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """The sha256 (lower-case hex) of the file's bytes, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()
