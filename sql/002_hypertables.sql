-- migrate: requires timescaledb
-- Raw facts become hypertables where TimescaleDB is installed; the tables are still empty here.
select create_hypertable('production', by_range('ts', interval '7 days'));
select create_hypertable('downtime', by_range('start_ts', interval '30 days'));
select create_hypertable('telemetry', by_range('ts', interval '1 day'));
select create_hypertable('inventory_level', by_range('ts', interval '30 days'));
select create_hypertable('inventory_movement', by_range('ts', interval '30 days'));
