"""File identity (sha256) and encoding detection: strict decoding, never mojibake."""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    has_quote: bool = False     # a '"' anywhere: quoted fields possible (no fast CSV path)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def fingerprint(path: Path) -> Fingerprint:
    """One streaming pass: sha256, NUL bytes and whether the bytes are valid UTF-8."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok, has_nul, has_quote, size, head = True, False, False, 0, b""
    for chunk in _chunks(path):
        if not head:
            head = chunk[:4]
        digest.update(chunk)
        size += len(chunk)
        has_nul = has_nul or b"\x00" in chunk
        has_quote = has_quote or b'"' in chunk
        if utf8_ok:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:  # a multi-byte character cut at the end of the file
            utf8_ok = False
    return Fingerprint(digest.hexdigest(), size, head.startswith(XLSX_MAGIC), has_nul,
                       utf8_ok, head.startswith(codecs.BOM_UTF8), has_quote)


def _first_error(path: Path, encoding: str) -> tuple[int, str] | None:
    """(offset, bytes) of the first undecodable sequence, or None when the file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset + exc.start, exc.object[exc.start:exc.start + 4].hex(" ")
    return None


def detect_encoding(path: Path, fp: Fingerprint) -> str:
    """utf-8-sig, utf-8, gbk or gb18030; anything else fails the file with the reason."""
    if fp.size == 0:
        raise FileFailed("empty file (0 bytes)")
    if fp.has_nul:
        raise FileFailed("binary content (NUL bytes): not a CSV text file or a valid xlsx")
    if fp.utf8_ok:
        return "utf-8-sig" if fp.bom else "utf-8"
    # GBK is a subset of GB18030: name the narrower one when it suffices.
    if _first_error(path, "gbk") is None:
        return "gbk"
    error = _first_error(path, "gb18030")
    if error is None:
        return "gb18030"
    offset, sample = error
    raise FileFailed(
        f"undecodable: not valid UTF-8, GBK or GB18030 (bytes {sample} at offset {offset}); "
        "the encoding cannot be determined with confidence"
    )


def open_text(path: Path, encoding: str):
    # newline='' lets the csv module see quoted line breaks and \r\n itself.
    return open(path, encoding=encoding, errors="strict", newline="")  # noqa: SIM115
