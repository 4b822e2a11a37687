-- Alerts: rules, one instance per rule and subject, silences, where notifications go, and an outbox of sends.
-- Plain tables on either engine: a few thousand rows at most, written by one evaluator at a time.

create table alert_rule (
    rule_id      serial primary key,
    name         text not null check (length(name) between 1 and 200),
    kind         text not null check (kind in ('oee', 'availability', 'performance', 'quality', 'machine_down',
                                                'sensor_limit', 'stock_reorder', 'stock_safety', 'stock_cover',
                                                'no_data')),
    subject_type text not null check (subject_type in ('plant', 'line', 'machine', 'sensor', 'material')),
    subject_id   text,                      -- null: every subject of that type
    plant_id     text references plant on delete cascade,  -- null: every plant
    threshold    double precision,          -- ratio (0-1), seconds, or a multiple of the lead time; see rules.py
    window_s     integer not null default 3600 check (window_s between 60 and 31 * 86400),
    for_s        integer not null default 0 check (for_s between 0 and 86400),
    clear_s      integer not null default 0 check (clear_s between 0 and 86400),  -- ok this long before resolved
    hysteresis   double precision not null default 0 check (hysteresis >= 0),     -- relative band around threshold
    severity     text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
    manual_resolve boolean not null default false,
    enabled      boolean not null default true,
    created_at   timestamptz not null default now(),
    unique (name)
);

create table alert_instance (
    instance_id  bigserial primary key,
    rule_id      integer not null references alert_rule on delete cascade,
    subject      text not null,             -- 'machine:M1', 'sensor:12', 'stock:DET/M1', ...
    plant_id     text not null,
    state        text not null check (state in ('ok', 'pending', 'firing', 'resolved')),
    episode      integer not null default 0,  -- bumped each time it starts again: notifications are per episode
    started      timestamptz,               -- first breach of this episode
    fired        timestamptz,
    ended        timestamptz,
    ok_since     timestamptz,               -- firing, but within limits since then (hysteresis in time)
    value        double precision,
    held         boolean not null default false,  -- resolved by hand while breaching: quiet until it clears
    updated      timestamptz not null default now(),
    acked_by     text,
    acked_at     timestamptz,
    ack_note     text,
    resolved_by  text,
    unique (rule_id, subject)
);
create index on alert_instance (plant_id, state);

create table alert_silence (
    silence_id   serial primary key,
    rule_id      integer references alert_rule on delete cascade,  -- null: any rule
    subject      text,                      -- null: any subject of the rule
    plant_id     text,                      -- the plant the silence was made for (scope)
    until_ts     timestamptz not null,
    created_by   text not null,
    note         text not null default '',
    created_at   timestamptz not null default now(),
    check (rule_id is not null or subject is not null)
);

create table alert_route (
    route_id     serial primary key,
    channel      text not null check (channel in ('email', 'webhook')),
    target       text not null,             -- an email address or a webhook URL
    plant_id     text references plant on delete cascade,  -- null: every plant
    min_severity text not null default 'warning' check (min_severity in ('info', 'warning', 'critical')),
    unique (channel, target, plant_id)
);

-- One row per message to send: written in the evaluation's transaction, so a restart neither loses nor repeats one.
create table alert_outbox (
    outbox_id    bigserial primary key,
    instance_id  bigint not null references alert_instance on delete cascade,
    episode      integer not null,
    event        text not null check (event in ('firing', 'resolved')),
    route_id     integer not null references alert_route on delete cascade,
    body         jsonb not null,
    attempts     integer not null default 0,
    next_try     timestamptz not null default now(),
    sent_at      timestamptz,
    failed_at    timestamptz,
    last_error   text,
    unique (instance_id, episode, event, route_id)
);
create index on alert_outbox (next_try) where sent_at is null and failed_at is null;

-- One row per evaluation slot: the primary key is what makes it one evaluation per period across hosts.
create table alert_evaluation (
    slot         bigint primary key,        -- epoch seconds // ALERT_EVAL_SECONDS
    at           timestamptz not null,
    host         text not null,
    pid          integer not null,
    rules        integer not null,
    changed      integer not null,
    took_ms      double precision not null
);
