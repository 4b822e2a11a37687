-- Who may see which plant, wall screens' tokens, and the roles pages (read only) and writers connect as.
create table app_user (
    username text primary key check (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash text,  -- null: signs in only through the reverse proxy's header
    all_plants boolean not null default false,
    disabled boolean not null default false,
    created_at timestamptz not null default now()
);

create table user_plant (
    username text not null references app_user on delete cascade,
    plant_id text not null references plant on delete cascade,
    primary key (username, plant_id)
);

create table wall_token (
    token_id serial primary key,
    name text not null,
    token_hash text not null unique,  -- sha256 of the token; the token itself is shown once, when it is made
    plants text[] not null,
    views text[] not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

-- Roles belong to the whole server: made once, and only where the migrating user may make them.
do $$
begin
    begin
        create role plant_reader nologin;
    exception when duplicate_object or unique_violation then null;
    end;
    begin
        create role plant_writer nologin;
    exception when duplicate_object or unique_violation then null;
    end;
    execute format('grant plant_reader, plant_writer to %I', current_user);
    grant usage on schema public to plant_reader, plant_writer;
    grant select on all tables in schema public to plant_reader;
    grant select, insert, update, delete on all tables in schema public to plant_writer;
    grant usage, select on all sequences in schema public to plant_writer;
    -- Password hashes and token hashes are read by the sign-in code only, through the owner's connection.
    revoke all on app_user, wall_token from plant_reader, plant_writer;
    alter default privileges in schema public grant select on tables to plant_reader;
    alter default privileges in schema public grant select, insert, update, delete on tables to plant_writer;
exception when insufficient_privilege then
    raise notice 'no privilege to create roles: pages fall back to read-only transactions; see README';
end $$;
