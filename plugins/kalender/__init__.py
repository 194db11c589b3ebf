"""Kalender OPD: Radicale plugins (storage, rights, app) and the admin CLI."""
