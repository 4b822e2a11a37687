"""Scheduled PDF reports: a saved view printed by headless Chromium and sent by e-mail, once per slot."""
