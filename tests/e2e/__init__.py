"""End-to-end tests: the real nightly Dagster job on the committed sample and on generated
corpora, whose published figures must equal the generator's truth; kills during a refresh and
the Yuncheng calibration."""
