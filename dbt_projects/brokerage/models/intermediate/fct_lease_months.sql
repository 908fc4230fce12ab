-- Fact of the star schema: one row per lease and calendar month in which it is active.
-- Leases start on the first and end on the last day of a month, so the full monthly rent
-- is due in every month from date_trunc(month, start_date) to date_trunc(month, end_date).
with leases as (

    select * from {{ ref('stg_brokerage__lease_contracts') }}

),

month_offsets as (

    -- 0 .. 599: leases of up to 50 years
    select generated_number - 1 as month_offset from ({{ dbt.generate_series(600) }}) as series

)

select
    leases.lease_id,
    cast({{ dbt.dateadd('month', 'month_offsets.month_offset', dbt.date_trunc('month', 'leases.start_date')) }} as date)
        as month_start,
    leases.tenant_lei,
    leases.property_id,
    leases.lease_type,
    leases.currency,
    leases.monthly_rent
from leases
inner join month_offsets
    on month_offsets.month_offset
       <= {{ dbt.datediff(dbt.date_trunc('month', 'leases.start_date'), dbt.date_trunc('month', 'leases.end_date'), 'month') }}
