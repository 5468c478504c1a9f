"""Text normalisation, the one Python spelling of the matching rule of docs/architecture.md
("Station resolution"): NFKC (full-width → half-width), every whitespace character (U+3000
included) removed, lower case.

Landing normalises header and marker cells with it (``pipelines.landing.mapping``), the PII
module exposes it beside the keyed hash (``pipelines.pii``), and the generator matches its
station spellings with it (``pipelines.generate.reference``). The SQL side is the
``normalise_text`` UDF (``pipelines.pii``) behind the dbt macro of the same name.
"""

from __future__ import annotations

import unicodedata
from typing import overload


@overload
def normalise_text(value: str) -> str: ...
@overload
def normalise_text(value: None) -> None: ...
def normalise_text(value: str | None) -> str | None:
    """NFKC, every whitespace character removed, lower case; None stays None."""
    if value is None:
        return None
    return "".join(unicodedata.normalize("NFKC", value).split()).lower()
