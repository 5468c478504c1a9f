"""Tests of the campaign bulletin (pipelines/bulletin): every figure and phrase against a tiny
hand-counted published catalog (catalog_fixture.py), a generated corpus and the Yuncheng
calibration, and the rendered page."""
