-- The ratings history as bought from the provider.
select
    as_of,
    lei,
    rating,
    outlook,
    agency
from {{ source('ratings_api', 'ratings_history') }}
