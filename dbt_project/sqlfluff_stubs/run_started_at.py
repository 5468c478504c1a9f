"""sqlfluff stub of dbt's `run_started_at` (a datetime): macro batch_stamp calls .strftime().

jinja templater, library_path in ../.sqlfluff. Never imported by dbt itself.
"""

from datetime import datetime

strftime = datetime(2000, 1, 1).strftime
