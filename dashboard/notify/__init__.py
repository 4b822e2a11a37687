"""Sending messages out of the dashboard: email over SMTP and JSON webhooks, for alerts and scheduled reports."""
