-- Output port of tenant_risk_exposure: for each current tenant and currency, the rent at risk
-- (this month's rent and the contracted rent of the next 12 months, this month included)
-- next to the tenant's latest credit rating from the risk domain.
-- Builds on tenancy_analytics' output port model (same domain) and risk's published port.
with rent as (

    select * from {{ ref('rent_by_month_and_tenant') }}

),

this_month as (

    select cast({{ dbt.date_trunc('month', 'current_date') }} as date) as month_start

),

current_rent as (

    select rent.*
    from rent
    inner join this_month
        on rent.month = this_month.month_start

),

next_12_months as (

    select
        rent.tenant_lei,
        rent.currency,
        sum(rent.rent_amount) as rent_next_12_months
    from rent
    cross join this_month
    where rent.month >= this_month.month_start
      and rent.month < cast({{ dbt.dateadd('month', 12, 'this_month.month_start') }} as date)
    group by 1, 2

),

ratings as (

    select * from {{ ref('int_latest_ratings') }}

)

select
    cast(current_rent.tenant_lei as {{ dbt.type_string() }}) as tenant_lei,
    cast(current_rent.tenant_name as {{ dbt.type_string() }}) as tenant_name,
    cast(current_rent.parent_lei as {{ dbt.type_string() }}) as parent_lei,
    cast(current_rent.currency as {{ dbt.type_string() }}) as currency,
    cast(current_rent.lease_count as {{ dbt.type_int() }}) as active_lease_count,
    cast(current_rent.rent_amount as numeric(14, 2)) as monthly_rent,
    cast(next_12_months.rent_next_12_months as numeric(16, 2)) as rent_next_12_months,
    cast(ratings.rating as {{ dbt.type_string() }}) as rating,
    cast(ratings.outlook as {{ dbt.type_string() }}) as outlook,
    cast(ratings.agency as {{ dbt.type_string() }}) as rating_agency,
    cast(ratings.as_of as date) as rating_as_of,
    cast(
        case
            when ratings.rating is null then 'unrated'
            when ratings.rating in ('AAA', 'AA+', 'AA', 'AA-', 'A+', 'A', 'A-', 'BBB+', 'BBB', 'BBB-')
                then 'investment_grade'
            when ratings.rating in ('BB+', 'BB', 'BB-', 'B+', 'B', 'B-') then 'speculative'
            else 'distressed'
        end as {{ dbt.type_string() }}
    ) as risk_band
from current_rent
inner join next_12_months
    on next_12_months.tenant_lei = current_rent.tenant_lei
    and next_12_months.currency = current_rent.currency
left join ratings
    on ratings.lei = current_rent.tenant_lei
