"""Deployment templates and default registries shipped with Kalender OPD."""
