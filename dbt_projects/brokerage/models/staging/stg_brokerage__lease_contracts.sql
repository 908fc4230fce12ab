-- Lease contracts: a lease is active on every day from start_date to end_date inclusive.
select
    lease_id,
    tenant_lei,
    property_id,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    lease_type,
    monthly_rent,
    currency
from {{ source('brokerage_landing', 'lease_contracts') }}
