"""File identity (sha256) and encoding detection: strict decoding, never mojibake.

Landing reads a file's bytes once; the hash, the checks and the parsers all work on those
bytes, so the ledger's sha256 is exactly what was parsed."""

from __future__ import annotations

import codecs
import hashlib
import io
from dataclasses import dataclass

CHUNK = 4 << 20
XLSX_MAGIC = b"PK\x03\x04"


class FileFailed(Exception):
    """The file as a whole cannot be landed; the message is the reason shown to operators."""


@dataclass
class Fingerprint:
    sha256: str
    size: int
    is_zip: bool
    has_nul: bool
    utf8_ok: bool
    bom: bool
    has_quote: bool = False  # a '"' anywhere: quoted fields possible (no fast CSV path)


def fingerprint(data: bytes) -> Fingerprint:
    """sha256 of exactly these bytes, NUL bytes, quotes and whether they are valid UTF-8."""
    return Fingerprint(
        hashlib.sha256(data).hexdigest(),
        len(data),
        data.startswith(XLSX_MAGIC),
        b"\x00" in data,
        _first_error(data, "utf-8") is None,
        data.startswith(codecs.BOM_UTF8),
        b'"' in data,
    )


def _first_error(data: bytes, encoding: str) -> tuple[int, str] | None:
    """(offset, bytes) of the first undecodable sequence, or None when the bytes decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    view = memoryview(data)
    offset = 0
    try:  # in chunks: decoding a whole file at once would hold it again, four times over
        for offset in range(0, len(data), CHUNK):
            decoder.decode(view[offset : offset + CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        at = offset + exc.start
        return at, bytes(view[at : at + 4]).hex(" ")
    return None


def detect_encoding(data: bytes, fp: Fingerprint) -> str:
    """utf-8-sig, utf-8, gbk or gb18030; anything else fails the file with the reason."""
    if fp.size == 0:
        raise FileFailed("empty file (0 bytes)")
    if fp.has_nul:
        raise FileFailed("binary content (NUL bytes): not a CSV text file or a valid xlsx")
    if fp.utf8_ok:
        return "utf-8-sig" if fp.bom else "utf-8"
    # GBK is a subset of GB18030: name the narrower one when it suffices.
    if _first_error(data, "gbk") is None:
        return "gbk"
    error = _first_error(data, "gb18030")
    if error is None:
        return "gb18030"
    offset, sample = error
    raise FileFailed(
        f"undecodable: not valid UTF-8, GBK or GB18030 (bytes {sample} at offset {offset}); "
        "the encoding cannot be determined with confidence"
    )


def open_text(data: bytes, encoding: str) -> io.TextIOWrapper:
    # newline='' lets the csv module see quoted line breaks and \r\n itself.
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="strict", newline="")
