-- migrate: requires timescaledb
-- migrate: no-transaction
-- Hierarchical continuous aggregates (raw minute -> 15 min -> hour) with real-time aggregation,
-- refresh policies and compression of old raw chunks. Plant-local daily aggregates, one per time
-- zone, are created by dashboard.rollups.ensure because the zones come from the plant table.
-- Every statement is safe to run again: this file runs outside a transaction.

create or replace view production_1m as
select machine_id, ts as bucket,
       planned_s::float8, run_s::float8, total_count::float8, good_count::float8, startup_rejects::float8,
       (ideal_cycle_s * total_count)::float8 as ideal_run_s,
       (ideal_cycle_s * good_count)::float8 as good_ideal_s,
       (ideal_cycle_s * startup_rejects)::float8 as startup_ideal_s
from production;

create materialized view if not exists production_15m
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select machine_id, time_bucket('15 minutes', ts) as bucket,
       sum(planned_s)::float8 as planned_s, sum(run_s)::float8 as run_s,
       sum(total_count)::float8 as total_count, sum(good_count)::float8 as good_count,
       sum(startup_rejects)::float8 as startup_rejects,
       sum(ideal_cycle_s * total_count)::float8 as ideal_run_s,
       sum(ideal_cycle_s * good_count)::float8 as good_ideal_s,
       sum(ideal_cycle_s * startup_rejects)::float8 as startup_ideal_s
from production
group by 1, 2
with no data;

create materialized view if not exists production_1h
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select machine_id, time_bucket('1 hour', bucket) as bucket,
       sum(planned_s) as planned_s, sum(run_s) as run_s, sum(total_count) as total_count,
       sum(good_count) as good_count, sum(startup_rejects) as startup_rejects,
       sum(ideal_run_s) as ideal_run_s, sum(good_ideal_s) as good_ideal_s, sum(startup_ideal_s) as startup_ideal_s
from production_15m
group by 1, 2
with no data;

create materialized view if not exists telemetry_1m
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select sensor_id, time_bucket('1 minute', ts) as bucket,
       min(value) as min, max(value) as max, sum(value) as sum, count(*) as count
from telemetry
group by 1, 2
with no data;

create materialized view if not exists telemetry_1h
with (timescaledb.continuous, timescaledb.materialized_only = false) as
select sensor_id, time_bucket('1 hour', bucket) as bucket,
       min(min) as min, max(max) as max, sum(sum) as sum, sum(count)::bigint as count
from telemetry_1m
group by 1, 2
with no data;

select add_continuous_aggregate_policy('production_15m', start_offset => interval '7 days',
    end_offset => null, schedule_interval => interval '5 minutes', if_not_exists => true);
select add_continuous_aggregate_policy('production_1h', start_offset => interval '7 days',
    end_offset => null, schedule_interval => interval '15 minutes', if_not_exists => true);
select add_continuous_aggregate_policy('telemetry_1m', start_offset => interval '2 days',
    end_offset => null, schedule_interval => interval '5 minutes', if_not_exists => true);
select add_continuous_aggregate_policy('telemetry_1h', start_offset => interval '7 days',
    end_offset => null, schedule_interval => interval '15 minutes', if_not_exists => true);

alter table telemetry set (timescaledb.compress, timescaledb.compress_segmentby = 'sensor_id',
    timescaledb.compress_orderby = 'ts');
alter table production set (timescaledb.compress, timescaledb.compress_segmentby = 'machine_id',
    timescaledb.compress_orderby = 'ts');
