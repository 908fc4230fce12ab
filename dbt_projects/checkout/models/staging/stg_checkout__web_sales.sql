-- One row per web order line, with business identifiers and clean names.
with source as (

    select * from {{ source('checkout_landing', 'web_sales') }}

),

renamed as (

    select
        {{ dbt.concat(["'WO-'", "lpad(cast(ws_order_number as " ~ dbt.type_string() ~ "), 9, '0')"]) }}
            as order_number,
        cast(ws_line_number as {{ dbt.type_int() }}) as line_number,
        ws_item_sk as item_sk,
        {{ dbt.concat(["'C'", "lpad(cast(ws_bill_customer_sk as " ~ dbt.type_string() ~ "), 8, '0')"]) }}
            as billing_customer_id,
        {{ dbt.concat(["'C'", "lpad(cast(ws_ship_customer_sk as " ~ dbt.type_string() ~ "), 8, '0')"]) }}
            as shipping_customer_id,
        cast({{ dbt.dateadd('second', 'ws_sold_time', 'ws_sold_date') }} as {{ dbt.type_timestamp() }})
            as sold_at,
        ws_sold_date as sold_date,
        ws_ship_date as ship_date,
        cast(ws_quantity as {{ dbt.type_int() }}) as quantity,
        ws_list_price as unit_list_price,
        ws_sales_price as unit_sales_price,
        ws_ext_sales_price as line_amount

    from source

)

select
    {{ dbt.concat(["order_number", "'-'", "cast(line_number as " ~ dbt.type_string() ~ ")"]) }}
        as order_line_id,
    *
from renamed
