{#- Generic tests dbt_utils does not have. (unique combinations and value ranges come from
    dbt_utils: unique_combination_of_columns, accepted_range.) -#}

{#- Bands of a partition must tile the number line: sorted by lower bound, each band starts
    where the one before ends, the first is open below (empty lower bound) and the last open
    above. A returned row is a band that overlaps, leaves a gap, or is open where it should not be. -#}
{% test bands_tile_the_number_line(model, lower_bound_column, upper_bound_column, partition_by) %}
    with ordered as (
        select
            {{ partition_by }} as band_group,
            {{ lower_bound_column }} as lower_bound,
            {{ upper_bound_column }} as upper_bound,
            row_number() over (partition by {{ partition_by }} order by {{ lower_bound_column }} nulls first) as band_position,
            count(*) over (partition by {{ partition_by }}) as band_count,
            lag({{ upper_bound_column }}) over (partition by {{ partition_by }} order by {{ lower_bound_column }} nulls first) as previous_upper_bound
        from {{ model }}
        where {{ lower_bound_column }} is not null or {{ upper_bound_column }} is not null
    ),
    problems as (
        select
            band_group, lower_bound, upper_bound,
            case
                when band_position = 1 and lower_bound is not null then 'the lowest band must have an empty lower bound'
                when band_position > 1 and lower_bound is null then 'only the lowest band may have an empty lower bound'
                when band_position = band_count and upper_bound is not null then 'the highest band must have an empty upper bound'
                when band_position < band_count and upper_bound is null then 'only the highest band may have an empty upper bound'
                when lower_bound is not null and upper_bound is not null and lower_bound >= upper_bound then 'lower bound is not below upper bound'
                when band_position > 1 and previous_upper_bound < lower_bound then 'gap after the previous band'
                when band_position > 1 and previous_upper_bound > lower_bound then 'overlaps the previous band'
            end as problem
        from ordered
    )
    select * from problems where problem is not null
{% endtest %}
