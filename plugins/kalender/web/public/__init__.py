"""The public pages: the city's agenda, activity pages, JSON, lobby screen, daily sheet.

No login; everything comes from the public agenda's occurrences
(``kalender_sync.webindex``), already filtered by ``kalender.visibility``.
"""
