-- Output port: "customers who bought this also bought": ordered pairs of articles that
-- occur in the same order, with association-rule measures over all consented orders.
--   support    = orders with both / all orders
--   confidence = orders with both / orders with item_id     (P(bought_with | item))
--   lift       = confidence / (orders with bought_with_item_id / all orders)
with order_items as (

    select * from {{ ref('int_order_items') }}

),

totals as (

    select count(distinct order_number) as n_orders from order_items

),

item_orders as (

    select item_id, count(*) as orders_with_item
    from order_items
    group by item_id

),

pairs as (

    select
        a.item_id,
        a.item_category,
        b.item_id as bought_with_item_id,
        b.item_category as bought_with_item_category,
        count(*) as orders_together
    from order_items as a
    inner join order_items as b
        on a.order_number = b.order_number
        and a.item_id <> b.item_id
    group by 1, 2, 3, 4
    having count(*) >= {{ var('min_orders_together') }}

)

select
    cast(pairs.item_id as {{ dbt.type_string() }}) as item_id,
    cast(pairs.item_category as {{ dbt.type_string() }}) as item_category,
    cast(pairs.bought_with_item_id as {{ dbt.type_string() }}) as bought_with_item_id,
    cast(pairs.bought_with_item_category as {{ dbt.type_string() }}) as bought_with_item_category,
    cast(pairs.orders_together as {{ dbt.type_int() }}) as orders_together,
    cast(1.0 * pairs.orders_together / totals.n_orders as numeric(18, 8)) as support,
    cast(1.0 * pairs.orders_together / item.orders_with_item as numeric(18, 8)) as confidence,
    cast(
        (1.0 * pairs.orders_together / item.orders_with_item)
        / (1.0 * bought_with.orders_with_item / totals.n_orders)
        as numeric(18, 8)
    ) as lift
from pairs
cross join totals
inner join item_orders as item
    on item.item_id = pairs.item_id
inner join item_orders as bought_with
    on bought_with.item_id = pairs.bought_with_item_id
