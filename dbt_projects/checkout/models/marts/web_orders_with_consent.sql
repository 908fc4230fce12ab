-- Output port: web order lines whose billing customer held an active analytical-use consent
-- at the time of sale (granted_at <= sold_at < revoked_at, revoked_at null = still active).
-- EXISTS (not a join) so that overlapping consent rows can never duplicate an order line.
--
-- Daily partitions on sold_date (the product's descriptor declares them): a run builds only
-- its partition range (from the platform, see mesh_platform/dbt_macros/mesh_partitions.sql) and
-- replaces exactly that range of the table; without one, or with --full-refresh, all of history.
{{ config(**mesh_partitioned('sold_date')) }}

with order_lines as (

    select * from {{ ref('int_order_lines') }}

),

analytical_consents as (

    select * from {{ ref('int_analytical_consents') }}

)

select
    cast(order_lines.order_line_id as {{ dbt.type_string() }}) as order_line_id,
    cast(order_lines.order_number as {{ dbt.type_string() }}) as order_number,
    cast(order_lines.line_number as {{ dbt.type_int() }}) as line_number,
    cast(order_lines.item_id as {{ dbt.type_string() }}) as item_id,
    cast(order_lines.item_category as {{ dbt.type_string() }}) as item_category,
    cast(order_lines.billing_customer_id as {{ dbt.type_string() }}) as billing_customer_id,
    cast(order_lines.shipping_customer_id as {{ dbt.type_string() }}) as shipping_customer_id,
    cast(order_lines.sold_at as {{ dbt.type_timestamp() }}) as sold_at,
    cast(order_lines.sold_date as date) as sold_date,
    cast(order_lines.ship_date as date) as ship_date,
    cast(order_lines.quantity as {{ dbt.type_int() }}) as quantity,
    cast(order_lines.unit_list_price as numeric(10, 2)) as unit_list_price,
    cast(order_lines.unit_sales_price as numeric(10, 2)) as unit_sales_price,
    cast(order_lines.line_amount as numeric(12, 2)) as line_amount
from order_lines
where {{ mesh_partition_filter('order_lines.sold_date') }}
  and exists (
    select 1
    from analytical_consents
    where analytical_consents.customer_id = order_lines.billing_customer_id
      and analytical_consents.granted_at <= order_lines.sold_at
      and (
          analytical_consents.revoked_at is null
          or analytical_consents.revoked_at > order_lines.sold_at
      )
)
