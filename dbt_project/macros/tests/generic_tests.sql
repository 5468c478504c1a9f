{#- Generic data tests of the warehouse (used from the models' YAML). -#}

{#- One row per grain: no two rows share the combination of columns. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- A rate is NULL or within [0, 1]. -#}
{% test rate_in_unit_interval(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and ({{ column_name }} < 0 or {{ column_name }} > 1)
{% endtest %}

{#- An "of which" figure is at most its total (e.g. hazards_rectified <= hazards_found). -#}
{% test at_most(model, column_name, total) %}
select {{ column_name }}, {{ total }}
from {{ model }}
where {{ column_name }} > {{ total }}
{% endtest %}

{#- A count or amount is never negative. -#}
{% test non_negative(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}

{#- A rate equals numerator / denominator rounded half up to 6 places (NULL when the
    denominator is 0). -#}
{% test rate_matches(model, column_name, numerator, denominator) %}
select {{ column_name }}, {{ numerator }}, {{ denominator }}
from {{ model }}
where {{ column_name }} is distinct from {{ rate(numerator, denominator) }}
{% endtest %}
