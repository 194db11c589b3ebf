"""Kalender OPD sync service: merges OPD calendars into the public and leaders agendas."""
