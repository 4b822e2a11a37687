"""Alerting: rules over the dashboard's own numbers, evaluated once for all workers, shown on screen and sent out."""
