"""Fault tests: crashes during landing (every commit point, random kills), hostile files,
concurrent runs, a full disk, a cut-short dbt manifest; each proves nothing is lost or leaked
and the operator gets a clear message. The long ones are marked ``slow``."""
