-- Entity ratings from the risk domain's published output port.
select
    cast(as_of as date) as as_of,
    lei,
    rating,
    outlook,
    agency
from {{ mesh_input('risk.entity_ratings.entity_ratings') }}
