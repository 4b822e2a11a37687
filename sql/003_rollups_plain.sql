-- migrate: requires plain
-- Rollups on plain PostgreSQL: the same relations TimescaleDB's continuous aggregates provide,
-- kept by dashboard.rollups.refresh, which recomputes only the hours a trigger marked as touched.

create view production_1m as
select machine_id, ts as bucket,
       planned_s::float8, run_s::float8, total_count::float8, good_count::float8, startup_rejects::float8,
       (ideal_cycle_s * total_count)::float8 as ideal_run_s,
       (ideal_cycle_s * good_count)::float8 as good_ideal_s,
       (ideal_cycle_s * startup_rejects)::float8 as startup_ideal_s
from production;

create table production_15m (
    machine_id text not null, bucket timestamptz not null,
    planned_s float8 not null, run_s float8 not null, total_count float8 not null, good_count float8 not null,
    startup_rejects float8 not null, ideal_run_s float8 not null, good_ideal_s float8 not null,
    startup_ideal_s float8 not null,
    primary key (machine_id, bucket)
);
create index on production_15m (bucket);
create table production_1h (like production_15m including all);
-- Plant-local days: `day` is the date on the plant's wall clock, `bucket` its local midnight.
create table production_1d (like production_15m including all);
alter table production_1d add column day date not null;

create table telemetry_1m (
    sensor_id integer not null, bucket timestamptz not null,
    min float8 not null, max float8 not null, sum float8 not null, count bigint not null,
    primary key (sensor_id, bucket)
);
create index on telemetry_1m (bucket);
create table telemetry_1h (like telemetry_1m including all);

-- Hours whose raw rows changed since the last refresh; written by statement triggers, so a
-- late or corrected row is picked up like any other.
create table rollup_invalidation (
    source text not null,
    hour timestamptz not null,
    primary key (source, hour)
);

create function mark_production_hours() returns trigger language plpgsql as $$
begin
    insert into rollup_invalidation select distinct 'production', date_trunc('hour', ts, 'UTC') from changed
    on conflict do nothing;
    return null;
end $$;
create function mark_telemetry_hours() returns trigger language plpgsql as $$
begin
    insert into rollup_invalidation select distinct 'telemetry', date_trunc('hour', ts, 'UTC') from changed
    on conflict do nothing;
    return null;
end $$;

create trigger production_ins after insert on production referencing new table as changed
    for each statement execute function mark_production_hours();
create trigger production_upd after update on production referencing new table as changed
    for each statement execute function mark_production_hours();
create trigger production_del after delete on production referencing old table as changed
    for each statement execute function mark_production_hours();
create trigger telemetry_ins after insert on telemetry referencing new table as changed
    for each statement execute function mark_telemetry_hours();
create trigger telemetry_upd after update on telemetry referencing new table as changed
    for each statement execute function mark_telemetry_hours();
create trigger telemetry_del after delete on telemetry referencing old table as changed
    for each statement execute function mark_telemetry_hours();

-- Rows already present when this migration runs get rolled up by the first refresh.
insert into rollup_invalidation select distinct 'production', date_trunc('hour', ts, 'UTC') from production;
insert into rollup_invalidation select distinct 'telemetry', date_trunc('hour', ts, 'UTC') from telemetry;

-- The refresh reads raw rows by hour; hypertables have this index already.
create index on telemetry (ts);
