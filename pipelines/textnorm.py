"""Text normalisation, the one Python spelling of the matching rule of docs/architecture.md
("Station resolution"): NFKC (full-width → half-width), every whitespace character (U+3000
included) removed, lower case.

Landing normalises marker cells, title keys and the boolean vocabulary with it
(``pipelines.landing.mapping``), the PII module exposes it beside the keyed hash
(``pipelines.pii``), and the generator matches its station spellings with it
(``pipelines.generate.reference``). The SQL side is the ``normalise_text`` UDF
(``pipelines.pii``) behind the dbt macro of the same name.

``nfkc_without_spaces`` is the rule's first two steps, for the two forms that differ from it on
purpose: header cells (``normalise_header``: a trailing bracketed unit is dropped before lower
casing, so "发现隐患（处）" means "发现隐患") and the identifiers the keyed hash is taken of
(``pipelines.pii.normalise_identifier``: upper case, as plates and ID numbers are written).
"""

from __future__ import annotations

import unicodedata
from typing import overload


def nfkc_without_spaces(value: str) -> str:
    """NFKC, then every whitespace character removed (no case change)."""
    return "".join(unicodedata.normalize("NFKC", value).split())


@overload
def normalise_text(value: str) -> str: ...
@overload
def normalise_text(value: None) -> None: ...
def normalise_text(value: str | None) -> str | None:
    """NFKC, every whitespace character removed, lower case; None stays None."""
    if value is None:
        return None
    return nfkc_without_spaces(value).lower()
