-- Data out: REST API tokens and their per-token request counters, and scheduled PDF reports with a record of
-- every scheduled send (one row per report and slot: a report goes out once, whatever number of workers or hosts).
create table api_token (
    name text primary key check (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    token_hash text not null unique,  -- sha256 of the token; the token itself is shown once, when it is made
    plants text[],  -- null: every plant
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

-- Fixed-window request counts per token, where REDIS_URL is not set ('<token>:<window>').
create table api_rate (
    key text primary key,
    window_start timestamptz not null,
    hits integer not null
);
create index api_rate_window on api_rate (window_start);

create table report (
    name text primary key check (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    page text not null check (page in ('/', '/oee', '/inventory')),
    fragment text not null default '',  -- the view: '#range=7d&plant=BER&group=line'
    plant_id text not null references plant on delete cascade,  -- the schedule follows this plant's clock
    every text not null check (every in ('daily', 'weekly')),
    weekday smallint check (weekday between 0 and 6),  -- weekly: 0 is Monday
    at_time time not null,  -- plant-local
    recipients text[] not null check (cardinality(recipients) > 0),
    run_as text references app_user on delete cascade,  -- with AUTH on: printed as this user sees it (their plants)
    created_at timestamptz not null default now(),
    check ((every = 'weekly') = (weekday is not null))
);

create table report_sent (
    name text not null references report on delete cascade,
    slot timestamptz not null,  -- the scheduled instant this send was for; 'run --now' uses the moment asked
    sent_at timestamptz not null default now(),
    bytes integer not null,
    primary key (name, slot)
);

-- Token hashes and counters are read by the API's own check only, through the owner's connection.
do $$
begin
    revoke all on api_token, api_rate from plant_reader, plant_writer;
exception when undefined_object or insufficient_privilege then null;
end $$;
