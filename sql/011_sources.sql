-- What a plant model file and the history importer need beyond 001: shift days and planned breaks,
-- SAP codes for plants and materials (MB51 mapping), and a record of every import.

alter table shift add column days smallint[] not null default '{0,1,2,3,4,5,6}';  -- 0 = Monday

create table shift_break (
    plant_id    text not null,
    shift_name  text not null,
    starts      time not null,          -- plant-local wall clock
    minutes     integer not null check (minutes > 0 and minutes <= 720),
    primary key (plant_id, shift_name, starts),
    foreign key (plant_id, shift_name) references shift on delete cascade
);

alter table plant add column sap_code text unique;
alter table material add column sap_code text unique;

create table import_run (
    import_id       serial primary key,
    file            text not null,
    kind            text not null,
    username        text not null,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    status          text not null default 'running' check (status in ('running', 'done', 'refused', 'failed', 'dry-run')),
    rows_new        bigint not null default 0,
    rows_changed    bigint not null default 0,
    rows_unchanged  bigint not null default 0,
    rows_refused    bigint not null default 0,
    message         text not null default ''
);
create index on import_run (started_at);

-- Bumped (at the end of the writing transaction) by every write that changes facts older than a few minutes
-- or any dimension; cache keys fold it in, so answers covering a corrected window are not served again.
create table data_generation (
    kind        text primary key check (kind in ('production', 'telemetry', 'inventory', 'model')),
    generation  bigint not null default 0,
    settled     bigint not null default 0   -- the generation the rollups were last refreshed after
);
insert into data_generation (kind) values ('production'), ('telemetry'), ('inventory'), ('model');

do $$
begin
    grant select on shift_break, import_run, data_generation to plant_reader;
    grant select, insert, update, delete on shift_break, import_run, data_generation to plant_writer;
    grant usage, select on sequence import_run_import_id_seq to plant_writer;
exception when undefined_object or insufficient_privilege then
    raise notice 'roles plant_reader/plant_writer are absent: grants skipped';
end $$;

-- SAP MB51 brings movements the simulator never made: issues to customers and transfers.
alter table inventory_movement drop constraint inventory_movement_kind_check;
alter table inventory_movement add constraint inventory_movement_kind_check
    check (kind in ('receipt', 'consumption', 'shipment', 'adjustment', 'transfer'));
