-- migrate: requires timescaledb
-- migrate: no-transaction
-- A 5-minute sensor level on top of the minute aggregate: a week of zoom at chart width reads 2,000 rows.
create materialized view if not exists telemetry_5m
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select sensor_id, time_bucket('5 minutes', bucket) as bucket,
       min(min) as min, max(max) as max, sum(sum) as sum, sum(count)::bigint as count
from telemetry_1m
group by 1, 2
with no data;

select add_continuous_aggregate_policy('telemetry_5m', start_offset => interval '3 days',
    end_offset => null, schedule_interval => interval '10 minutes', if_not_exists => true);
