-- Item catalogue with clean names.
with source as (

    select * from {{ source('checkout_landing', 'items') }}

)

select
    i_item_id as item_id,
    i_item_sk as item_sk,
    i_item_name as item_name,
    i_category as category,
    i_current_price as current_price
from source
