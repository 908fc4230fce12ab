-- Buildings with city and country.
select
    property_id,
    property_name,
    city,
    country,
    property_type,
    cast(floor_area_sqm as {{ dbt.type_int() }}) as floor_area_sqm
from {{ source('brokerage_landing', 'properties') }}
