-- The spans of time the demo simulator has written, so that history loaded in the background after the app
-- already answers can be resumed where it stopped, and every app worker can show how far it has got.
create table demo_history (
    start_ts timestamptz primary key,
    end_ts timestamptz not null check (end_ts > start_ts)
);
-- A database the demo filled before this table existed was filled up to its newest row.
insert into demo_history (start_ts, end_ts)
select min(ts), max(ts) + interval '1 minute' from production having count(*) > 0;
