-- Each distinct article in each order (an article on two lines of one order counts once).
select distinct
    order_number,
    item_id,
    item_category
from {{ ref('stg_checkout__web_orders_with_consent') }}
