-- Property dimension.
select
    property_id,
    property_name,
    city,
    country,
    property_type,
    floor_area_sqm
from {{ ref('stg_brokerage__properties') }}
