select
    violation_code,
    label_zh,
    actor
from {{ ref('violation_types') }}
