"""The campaign bulletin (通报): figures for a unit and period, read only from the published BI
catalog, written as one self-contained HTML page plus the headline paragraph as plain text.

Wording and layout are data: phrases.yml (the phrase table) and templates/ (Jinja2)."""

from pipelines.bulletin.api import BulletinOutput, write_bulletin
from pipelines.bulletin.reader import BulletinError, CatalogUnavailable, open_catalog
from pipelines.bulletin.scope import PERIOD_KINDS

__all__ = [
    "PERIOD_KINDS",
    "BulletinError",
    "BulletinOutput",
    "CatalogUnavailable",
    "open_catalog",
    "write_bulletin",
]
