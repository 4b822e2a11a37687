-- migrate: requires timescaledb
-- migrate: no-transaction
-- A 10-second sensor level on the raw readings: a zoom of 3 to 40 hours reads at most 14,400 rows.
create materialized view if not exists telemetry_10s
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select sensor_id, time_bucket('10 seconds', ts) as bucket,
       min(value) as min, max(value) as max, sum(value) as sum, count(*) as count
from telemetry
group by 1, 2
with no data;

select add_continuous_aggregate_policy('telemetry_10s', start_offset => interval '2 days',
    end_offset => null, schedule_interval => interval '5 minutes', if_not_exists => true);
