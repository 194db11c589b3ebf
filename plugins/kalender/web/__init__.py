"""The city's web pages: the public agenda, activity pages, JSON, lobby screen, print.

Every page is rendered from the data the sync service writes to ``sync.db``
(``kalender_sync.webindex``), never from Radicale's storage, so a burst of
readers never waits for (or holds up) an OPD's write. ``kalender.web.app``
routes a request to its page or hands it on to the CalDAV application;
``respond`` builds answers (ETag/304, CSP, error pages); ``render`` holds the
Jinja2 templates (autoescaped) of ``templates/``; ``static/`` is served at
``/aset/``.
"""
