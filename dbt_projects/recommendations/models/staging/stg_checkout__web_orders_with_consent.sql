-- The consented web order lines this domain may use, from checkout's published output port.
select
    order_number,
    line_number,
    item_id,
    item_category,
    sold_date
from {{ mesh_input('checkout.web_orders_with_consent.web_orders_with_consent') }}
