"""A smoke test of the benchmark (bench/): its baselines run on a tiny fabricated corpus and
print their table, so ``make bench`` does not break unnoticed between measurements."""
