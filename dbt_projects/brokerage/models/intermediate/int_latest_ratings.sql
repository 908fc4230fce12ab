-- Each entity's most recent rating (the latest as_of per LEI).
with ratings as (

    select * from {{ ref('stg_risk__entity_ratings') }}

),

latest as (

    select lei, max(as_of) as as_of
    from ratings
    group by lei

)

select ratings.*
from ratings
inner join latest
    on latest.lei = ratings.lei
    and latest.as_of = ratings.as_of
