"""`warehouse generate`: messy synthetic station exports plus their ground truth (truth.json).

    generate_corpus(out, stations, days, seed, traffic_per_station_day=None) -> truth dict
    generate_at_scale(out, stations=150, days=365, traffic_rows=10_000_000, seed=1)
    generate_scenario("yuncheng-2022", out) -> truth dict

See pipelines/generate/README.md for what is written and what landing must make of it.
"""

from pipelines.generate.api import generate_at_scale, generate_corpus, generate_scenario

__all__ = ["generate_at_scale", "generate_corpus", "generate_scenario"]
