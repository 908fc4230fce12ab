-- Tenant dimension: every legal entity with its direct parent's name.
with entities as (

    select * from {{ ref('stg_brokerage__legal_entities') }}

)

select
    entities.lei as tenant_lei,
    entities.legal_name as tenant_name,
    entities.country as tenant_country,
    entities.parent_lei,
    parents.legal_name as parent_name
from entities
left join entities as parents
    on parents.lei = entities.parent_lei
