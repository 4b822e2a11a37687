"""The shop-floor feed: machine states, counters and sensor readings over MQTT into per-minute facts."""
