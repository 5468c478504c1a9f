select
    venue_type_code,
    label_zh,
    coalesce(is_nine_small, false) as is_nine_small
from {{ ref('venue_types') }}
