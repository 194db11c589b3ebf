"""The clash engine: pure rules, iCalendar extraction, matching, index and guard."""
