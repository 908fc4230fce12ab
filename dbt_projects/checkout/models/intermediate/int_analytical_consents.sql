-- Only consents for analytical use. Marketing consents do NOT permit analytics.
select
    customer_id,
    purpose,
    granted_at,
    revoked_at
from {{ ref('stg_checkout__customer_consents') }}
where purpose = 'analytics'
