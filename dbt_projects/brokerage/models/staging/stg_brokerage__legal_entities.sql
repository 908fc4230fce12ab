-- Legal entities (tenants and their parents), one row per LEI.
select
    cast(lei as {{ dbt.type_string() }}) as lei,
    cast(legal_name as {{ dbt.type_string() }}) as legal_name,
    cast(country as {{ dbt.type_string() }}) as country,
    cast(parent_lei as {{ dbt.type_string() }}) as parent_lei
from {{ source('brokerage_landing', 'legal_entities') }}
