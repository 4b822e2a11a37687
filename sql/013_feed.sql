-- The MQTT feed: the signals it has taken (so a restarted feed recomputes late minutes exactly) and its heartbeat.
create table feed_signal (
    machine_id  text not null references machine,
    kind        text not null check (kind in ('state', 'count')),
    ts          timestamptz not null,
    state       text check (state in ('running', 'idle', 'down', 'planned_stop')),
    reason      text,
    total       bigint check (total >= 0),
    good        bigint check (good >= 0),
    primary key (machine_id, kind, ts)
);
create index on feed_signal (ts);

-- One row per running feed, updated at every write: /healthz shows how far behind each one is.
create table feed_status (
    feed_id     text primary key,
    seen_at     timestamptz not null,
    behind_s    double precision not null,
    buffered    integer not null,
    connected   boolean not null,
    accepted    bigint not null,
    rejected    bigint not null
);
