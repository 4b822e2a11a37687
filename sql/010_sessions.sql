-- Sessions that can be ended on the server, and sign-in attempts counted where every worker and host sees them.
-- A user's sessions carry the generation they were made in; sign out, a new password and disable bump it.
alter table app_user add column session_gen integer not null default 0;

-- Sign-in attempts per user and per address in fixed windows, counted atomically before a password is checked.
create table login_attempt (
    key text primary key,  -- '<window>:u:<name>' or '<window>:ip:<address>'
    window_start timestamptz not null,
    attempts integer not null
);
create index login_attempt_window on login_attempt (window_start);

-- Like app_user, read and written by the sign-in code only (the owner's connection).
do $$
begin
    revoke all on login_attempt from plant_reader, plant_writer;
exception when undefined_object or insufficient_privilege then null;
end $$;
