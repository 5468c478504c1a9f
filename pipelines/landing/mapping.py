"""The header mapping file: synonyms per record type, markers, boolean vocabulary."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.landing.schema import FIELDS, key_field
from pipelines.textnorm import nfkc_without_spaces, normalise_text

MAPPING_PATH = Path(__file__).with_name("header_mapping.yml")

# A trailing unit in brackets, after NFKC turned （） into (): "发现隐患(处)", "罚款金额[元]".
_UNIT = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")


def normalise_header(text: object) -> str:
    """NFKC, no spaces at all (incl. U+3000), no trailing bracketed unit, lower case: the
    matching rule (pipelines/textnorm.py) plus the unit, which it keeps on purpose (markers,
    title keys and vocabulary are normalised with the plain rule); None gives ''."""
    if text is None:
        return ""
    s = nfkc_without_spaces(str(text))
    return (_UNIT.sub("", s) or s).lower()


@dataclass(frozen=True)
class HeaderMapping:
    """header_mapping.yml, parsed: every text already normalised."""

    version: str
    min_fields: int
    total_markers: tuple[str, ...]
    title_station: str
    title_exported_at: str
    other_title_keys: tuple[str, ...]
    true_values: tuple[str, ...]
    false_values: tuple[str, ...]
    # record type -> normalised header -> canonical field
    synonyms: dict[str, dict[str, str]]

    def header_fields(self, record_type: str, cells: list[str]) -> dict[str, int]:
        """Canonical field -> column index for a candidate header line (first match wins)."""
        lookup = self.synonyms[record_type]
        found: dict[str, int] = {}
        for i, cell in enumerate(cells):
            field = lookup.get(normalise_header(cell))
            if field is not None and field not in found:
                found[field] = i
        return found

    def is_header(self, record_type: str, fields: dict[str, int]) -> bool:
        return len(fields) >= self.min_fields and key_field(record_type) in fields

    @property
    def title_keys(self) -> tuple[str, ...]:
        return (self.title_station, self.title_exported_at, *self.other_title_keys)


def _strings(values: list) -> tuple[str, ...]:
    return tuple(normalise_text(str(v)) for v in values)


def parse_mapping(text: bytes) -> HeaderMapping:
    doc = yaml.safe_load(text)
    synonyms: dict[str, dict[str, str]] = {}
    for record_type, fields in doc["record_types"].items():
        if record_type not in FIELDS:
            raise ValueError(f"header mapping: unknown record type {record_type!r}")
        lookup: dict[str, str] = {}
        for field, names in fields.items():
            if field not in FIELDS[record_type]:
                raise ValueError(f"header mapping: {record_type} has no field {field!r}")
            for name in names:
                norm = normalise_header(name)
                # a synonym meaning two fields of one record type would make headers ambiguous
                if lookup.setdefault(norm, field) != field:
                    raise ValueError(f"header mapping: {name!r} maps to two {record_type} fields")
        synonyms[record_type] = lookup
    version = f"{doc['version']}+{hashlib.sha256(text).hexdigest()[:8]}"
    return HeaderMapping(
        version=version,
        min_fields=int(doc.get("header_min_fields", 3)),
        total_markers=_strings(doc["total_markers"]),
        title_station=normalise_text(doc["title_keys"]["station"]),
        title_exported_at=normalise_text(doc["title_keys"]["exported_at"]),
        other_title_keys=_strings(doc.get("other_title_keys", [])),
        true_values=_strings(doc["booleans"]["true"]),
        false_values=_strings(doc["booleans"]["false"]),
        synonyms=synonyms,
    )


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> HeaderMapping:
    return parse_mapping(Path(path).read_bytes())


def load_mapping(path: Path | None = None) -> HeaderMapping:
    """The mapping file, re-read when it changes (the operator may edit it between runs)."""
    path = path or MAPPING_PATH
    return _load(str(path), path.stat().st_mtime_ns)
