-- Output port: the dated history of entity ratings - a mirror view over the history table,
-- so the internal storage can change without breaking consumers.
select
    cast(as_of as date) as as_of,
    cast(lei as {{ dbt.type_string() }}) as lei,
    cast(rating as {{ dbt.type_string() }}) as rating,
    cast(outlook as {{ dbt.type_string() }}) as outlook,
    cast(agency as {{ dbt.type_string() }}) as agency
from {{ ref('stg_ratings_api__ratings_history') }}
