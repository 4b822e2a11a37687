-- Dimensions and raw facts for plants, machines, downtime, sensors and inventory.
-- Every fact's primary key includes its time column, so a re-sent row is a no-op
-- and the tables can become TimescaleDB hypertables unchanged.

create table plant (
    plant_id    text primary key,
    name        text not null,
    tz          text not null          -- IANA name, checked against pg_timezone_names on insert
);

create table shift (
    plant_id    text not null references plant,
    name        text not null,
    starts      time not null,          -- plant-local wall clock
    hours       numeric(4, 2) not null check (hours > 0 and hours <= 24),
    primary key (plant_id, name)
);

create table line (
    line_id     text primary key,
    plant_id    text not null references plant,
    name        text not null
);
create index on line (plant_id);

create table machine (
    machine_id    text primary key,
    line_id       text not null references line,
    name          text not null,
    ideal_cycle_s double precision not null check (ideal_cycle_s > 0)
);
create index on machine (line_id);

create table loss_category (
    category    text primary key,
    factor      text not null check (factor in ('availability', 'performance', 'quality')),
    label       text not null,
    sort        int not null
);
insert into loss_category values
    ('breakdown', 'availability', 'Breakdowns', 1),
    ('setup', 'availability', 'Setup and adjustments', 2),
    ('minor_stop', 'performance', 'Minor stops', 3),
    ('reduced_speed', 'performance', 'Reduced speed', 4),
    ('defect', 'quality', 'Process defects', 5),
    ('startup_reject', 'quality', 'Start-up rejects', 6);

create table downtime_reason (
    reason_code text primary key,
    label       text not null,
    category    text not null references loss_category
);
insert into downtime_reason values ('unknown', 'Unknown', 'breakdown');

-- One row per machine and minute with planned time; a minute with no row had no planned production.
create table production (
    machine_id      text not null references machine,
    ts              timestamptz not null,
    planned_s       double precision not null check (planned_s between 0 and 60),
    run_s           double precision not null check (run_s between 0 and planned_s),
    total_count     integer not null check (total_count >= 0),
    good_count      integer not null check (good_count between 0 and total_count),
    startup_rejects integer not null default 0 check (startup_rejects between 0 and total_count - good_count),
    ideal_cycle_s   double precision not null check (ideal_cycle_s > 0),
    primary key (machine_id, ts)
);
create index on production (ts);

create table downtime (
    machine_id  text not null references machine,
    start_ts    timestamptz not null,
    end_ts      timestamptz not null check (end_ts > start_ts),
    reason_code text not null default 'unknown' references downtime_reason,
    primary key (machine_id, start_ts)
);
create index on downtime (start_ts);

create table sensor (
    sensor_id   integer primary key,
    machine_id  text not null references machine,
    kind        text not null,
    unit        text not null,
    lo_limit    double precision,
    hi_limit    double precision,
    unique (machine_id, kind)
);

create table telemetry (
    sensor_id   integer not null,       -- no foreign key: 1 Hz rows load faster without the check
    ts          timestamptz not null,
    value       double precision not null,
    primary key (sensor_id, ts)
);

create table material (
    material_id text primary key,
    name        text not null,
    unit        text not null,
    unit_cost   numeric(12, 4) not null check (unit_cost >= 0)
);

create table stock_policy (
    plant_id        text not null references plant,
    material_id     text not null references material,
    reorder_point   double precision not null check (reorder_point >= 0),
    safety_stock    double precision not null check (safety_stock >= 0),
    lead_time_days  double precision not null check (lead_time_days >= 0),
    primary key (plant_id, material_id)
);

-- Snapshot of what is on hand, per plant and material, at ts.
create table inventory_level (
    plant_id    text not null,
    material_id text not null,
    ts          timestamptz not null,
    on_hand     double precision not null,
    primary key (plant_id, material_id, ts),
    foreign key (plant_id, material_id) references stock_policy
);
create index on inventory_level (ts);

create table inventory_movement (
    plant_id    text not null,
    material_id text not null,
    ts          timestamptz not null,
    kind        text not null check (kind in ('receipt', 'consumption', 'adjustment')),
    qty         double precision not null,
    primary key (plant_id, material_id, ts, kind),
    foreign key (plant_id, material_id) references stock_policy
);
create index on inventory_movement (ts);

create function plant_tz_is_known() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from pg_timezone_names where name = new.tz) then
        raise exception 'unknown time zone % for plant %', new.tz, new.plant_id;
    end if;
    return new;
end $$;
create trigger plant_tz_is_known before insert or update on plant
    for each row execute function plant_tz_is_known();
