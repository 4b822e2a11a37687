-- Production orders, the machines that ran them, and their deliveries: the facts behind lead time and OTIF.
--
-- One file for both engines, and no hypertables on purpose: a busy plant releases a few hundred orders a day
-- (the bench's 50k orders in 90 days is ~200k a year, deliveries about as many again), rows are UPDATED as an
-- order moves from created to shipped, and the trace looks one order up by its id. Chunking by time would buy
-- nothing at that volume, would force the time column into every unique key, and would turn an update of a
-- release or finish time into a cross-chunk move. Plain tables with the indexes below answer the page's
-- questions (orders finished, promised or still open in a window) from index ranges on either engine.
--
-- Times are timestamptz (instants); a promised date is a plant-local calendar date, compared with the goods
-- issue's date on the plant's wall clock.

create table production_order (
    order_id        text primary key check (length(order_id) between 1 and 64),
    plant_id        text not null references plant,
    material_id     text not null,          -- a finished-goods code; raw materials live in `material`
    kind            text not null check (kind in ('MTO', 'MTS')),  -- make to order / make to stock
    customer        text,                   -- who ordered it: required for MTO, empty for MTS
    qty_ordered     double precision not null check (qty_ordered > 0),
    qty_produced    double precision not null default 0 check (qty_produced >= 0),
    line_id         text references line,   -- the line that ran it (machines in production_order_run)
    created_at      timestamptz not null,
    released_at     timestamptz,
    planned_start   timestamptz,
    planned_finish  timestamptz,
    actual_start    timestamptz,
    actual_finish   timestamptz,
    hold_reason     text,                   -- why a released order has not started, e.g. 'material'
    check (kind = 'MTS' or customer is not null),
    check (released_at is null or released_at >= created_at),
    check (actual_start is null or (released_at is not null and actual_start >= released_at)),
    check (actual_finish is null or (actual_start is not null and actual_finish >= actual_start)),
    check (planned_finish is null or planned_start is null or planned_finish >= planned_start)
);
create index on production_order (plant_id, actual_finish);
create index on production_order (created_at);
-- Open orders (work in progress) are few; a partial index finds them without reading the finished ones.
create index production_order_open on production_order (plant_id) where actual_finish is null;

-- Which machine ran which order, when, and how much it made: what the order trace draws.
create table production_order_run (
    order_id    text not null references production_order on delete cascade,
    machine_id  text not null references machine,
    start_ts    timestamptz not null,
    end_ts      timestamptz,                -- empty while it is still running
    qty_good    double precision not null default 0 check (qty_good >= 0),
    primary key (order_id, machine_id, start_ts),
    check (end_ts is null or end_ts >= start_ts)
);
create index on production_order_run (machine_id, start_ts);

-- Goods issued against an order, each with the date promised for it. A REVERSAL is a row of its own with a
-- NEGATIVE quantity, issued when it was reversed (as SAP's movement type 602 reverses a 601): nothing is
-- rewritten, the shipped quantity is the sum, and a re-sent row changes nothing. A row with no goods issue yet
-- is a scheduled delivery that has not left (the order is then pending unless something else has shipped).
create table delivery (
    order_id        text not null references production_order on delete cascade,
    delivery_no     integer not null check (delivery_no >= 1),
    promised_date   date not null,          -- plant-local calendar date
    qty             double precision not null check (qty <> 0),  -- negative: a reversal
    goods_issue_at  timestamptz,            -- empty: not shipped yet
    primary key (order_id, delivery_no),
    check (qty > 0 or goods_issue_at is not null)  -- a reversal is always something that happened
);
create index on delivery (promised_date);
create index on delivery (goods_issue_at);
