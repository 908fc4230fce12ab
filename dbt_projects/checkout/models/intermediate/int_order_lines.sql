-- Order lines enriched with the item's business id and category.
with order_lines as (

    select * from {{ ref('stg_checkout__web_sales') }}

),

items as (

    select * from {{ ref('stg_checkout__items') }}

)

select
    order_lines.order_line_id,
    order_lines.order_number,
    order_lines.line_number,
    items.item_id,
    items.category as item_category,
    order_lines.billing_customer_id,
    order_lines.shipping_customer_id,
    order_lines.sold_at,
    order_lines.sold_date,
    order_lines.ship_date,
    order_lines.quantity,
    order_lines.unit_list_price,
    order_lines.unit_sales_price,
    order_lines.line_amount
from order_lines
left join items
    on order_lines.item_sk = items.item_sk
