-- Time dimension: every calendar month from the first lease start to the last lease end.
with bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(start_date)') }} as date) as first_month,
        {{ dbt.datediff(dbt.date_trunc('month', 'min(start_date)'), dbt.date_trunc('month', 'max(end_date)'), 'month') }}
            as n_months
    from {{ ref('stg_brokerage__lease_contracts') }}

),

months as (

    select cast({{ dbt.dateadd('month', 'series.generated_number - 1', 'bounds.first_month') }} as date) as month_start
    from bounds
    cross join ({{ dbt.generate_series(600) }}) as series
    where series.generated_number - 1 <= bounds.n_months

)

select
    month_start,
    cast(extract(year from month_start) as {{ dbt.type_int() }}) as year,
    cast(extract(quarter from month_start) as {{ dbt.type_int() }}) as quarter,
    cast(extract(month from month_start) as {{ dbt.type_int() }}) as month_of_year,
    month_start = cast({{ dbt.date_trunc('month', 'current_date') }} as date) as is_current_month
from months
