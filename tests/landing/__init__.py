"""Tests of landing (pipelines/landing): encodings, xlsx, header mapping, values, line kinds, the
fast CSV path, the ledger and versions of a path, threads, re-examination, and that every row
read is landed or quarantined (conservation, property tests)."""
