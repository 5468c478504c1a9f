select
    *,
    rows_landed + rows_quarantined as rows_accounted
from {{ ref('file_ledger') }}
