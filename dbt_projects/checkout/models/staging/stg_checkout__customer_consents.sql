-- Consent register; customer_id uses the same format as billing_customer_id in web sales.
with source as (

    select * from {{ source('checkout_landing', 'customer_consents') }}

)

select
    {{ dbt.concat(["'C'", "lpad(cast(customer_sk as " ~ dbt.type_string() ~ "), 8, '0')"]) }}
        as customer_id,
    purpose,
    cast(granted_at as {{ dbt.type_timestamp() }}) as granted_at,
    cast(revoked_at as {{ dbt.type_timestamp() }}) as revoked_at
from source
