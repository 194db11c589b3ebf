"""Telling PICs what happened to their writes: the Bentrok calendars and e-mail."""
