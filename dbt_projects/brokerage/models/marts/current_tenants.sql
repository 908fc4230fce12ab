-- Output port: the tenants holding at least one lease active in the current month.
with current_lease_months as (

    select lease_months.*
    from {{ ref('fct_lease_months') }} as lease_months
    inner join {{ ref('dim_month') }} as months
        on months.month_start = lease_months.month_start
    where months.is_current_month

),

tenants as (

    select * from {{ ref('dim_tenant') }}

)

select
    cast(tenants.tenant_lei as {{ dbt.type_string() }}) as lei,
    cast(tenants.tenant_name as {{ dbt.type_string() }}) as name,
    cast(tenants.parent_lei as {{ dbt.type_string() }}) as parent_lei,
    cast(count(distinct current_lease_months.lease_id) as {{ dbt.type_int() }}) as active_lease_count,
    current_date as as_of_date
from current_lease_months
inner join tenants
    on tenants.tenant_lei = current_lease_months.tenant_lei
group by 1, 2, 3, 5
