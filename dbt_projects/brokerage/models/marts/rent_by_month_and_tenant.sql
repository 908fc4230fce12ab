-- Output port: contracted rent per calendar month, tenant and currency (past and future
-- months), pre-aggregated from the lease-month star schema.
with lease_months as (

    select * from {{ ref('fct_lease_months') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

tenants as (

    select * from {{ ref('dim_tenant') }}

),

properties as (

    select * from {{ ref('dim_property') }}

)

select
    months.month_start as month,
    months.year as year,
    cast(tenants.tenant_lei as {{ dbt.type_string() }}) as tenant_lei,
    cast(tenants.tenant_name as {{ dbt.type_string() }}) as tenant_name,
    cast(tenants.parent_lei as {{ dbt.type_string() }}) as parent_lei,
    cast(lease_months.currency as {{ dbt.type_string() }}) as currency,
    cast(count(*) as {{ dbt.type_int() }}) as lease_count,
    cast(count(distinct properties.property_id) as {{ dbt.type_int() }}) as property_count,
    cast(sum(lease_months.monthly_rent) as numeric(14, 2)) as rent_amount
from lease_months
inner join months
    on months.month_start = lease_months.month_start
inner join tenants
    on tenants.tenant_lei = lease_months.tenant_lei
inner join properties
    on properties.property_id = lease_months.property_id
group by 1, 2, 3, 4, 5, 6
