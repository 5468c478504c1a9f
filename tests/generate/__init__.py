"""Tests of the generator (pipelines/generate): the same seed gives the same files, the files say
what truth.json says (read back by an independent reader, reference_loader.py), the committed
sample equals a fresh generation, and the Yuncheng scenario reproduces its report."""
