-- Output port web_orders_with_consent_v2 (contract web-orders-with-consent-v2): major version 2
-- of web_orders_with_consent without shipping_customer_id (data minimisation: no consumer needs
-- whom an order ships to). Published beside v1 until v1's sunset date (see v1's contract).
select
    order_line_id,
    order_number,
    line_number,
    item_id,
    item_category,
    billing_customer_id,
    sold_at,
    sold_date,
    ship_date,
    quantity,
    unit_list_price,
    unit_sales_price,
    line_amount
from {{ ref('web_orders_with_consent') }}
