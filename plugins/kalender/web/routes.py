"""The web's routing table: every page's path pattern, function, methods.

``kalender.web.app`` matches a request's path against :data:`ROUTES` in order;
the first match answers (the module is imported when first asked for), and a
request that matches none goes on to the CalDAV application. Targets are
``"module:function"`` strings; one without a package names a module of
``kalender.web.workspace``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kalender.registry import WEB_SEGMENTS

READ = ("GET", "HEAD")
FORM = ("GET", "HEAD", "POST")
POST = ("POST",)

#: An activity's page id (kalender_sync.occurrences.page_id).
ACTIVITY = r"([0-9a-f]{32}(?:-[0-9TZ]{8,16})?)"
#: An item's file name in an OPD calendar (as stored; no "/").
ITEM = r"([a-z0-9][a-z0-9-]{0,62})/([^/]+)"


@dataclass(frozen=True)
class Route:
    """A page: its path pattern, ``"module:function"``, methods, and whether only for browsers.

    A ``browser`` route takes only a GET/HEAD asking for HTML (``Accept:
    text/html``): the same path is a CalDAV collection that calendar clients
    (which never ask for HTML) keep reaching in Radicale. A method not listed
    gets 405 here, so a POST-only page never runs for a GET.
    """

    pattern: re.Pattern[str]
    target: str
    methods: tuple[str, ...] = READ
    browser: bool = False


def _r(pattern: str, target: str, methods: tuple[str, ...] = READ,
       browser: bool = False) -> Route:
    """A :class:`Route`; a target without a package is one of ``kalender.web.workspace``."""
    module = target if target.startswith("kalender.") else "kalender.web.workspace." + target
    return Route(re.compile(pattern), module, methods, browser)


#: Every page; the function takes a Request (and the pattern's groups) and returns
#: a respond.Response. Modules are imported when first asked for.
ROUTES: list[Route] = [
    _r(r"^/$", "kalender.web.public.agenda:page", browser=True),
    _r(rf"^/kegiatan/{ACTIVITY}\.ics$", "kalender.web.public.event:ics"),
    _r(rf"^/kegiatan/{ACTIVITY}/undangan\.pdf$", "kalender.web.public.invitation:page"),
    _r(rf"^/kegiatan/{ACTIVITY}/?$", "kalender.web.public.event:page"),
    _r(r"^/publik/agenda\.json$", "kalender.web.public.jsonfeed:agenda"),
    _r(r"^/layar/?$", "kalender.web.public.lobby:page"),
    _r(r"^/layar/data\.json$", "kalender.web.public.lobby:data"),
    _r(r"^/cetak/?$", "kalender.web.public.printsheet:page"),
    _r(r"^/aset/([a-z0-9][a-z0-9._-]*)$", "kalender.web.app:asset"),
    # browsers ask for it by themselves; Radicale would answer a citizen 401 "Perlu Login"
    _r(r"^/favicon\.ico$", "kalender.web.app:favicon"),
    # the workspace (issue 10)
    _r(r"^/masuk/?$", "signin:page", FORM),
    _r(r"^/keluar/?$", "signin:leave", FORM),
    _r(r"^/ketersediaan/?$", "availability:page"),
    _r(r"^/kegiatan/baru/?$", "booking:new", FORM),
    _r(rf"^/kegiatan/ubah/{ITEM}$", "booking:edit", FORM),
    _r(rf"^/kegiatan/hapus/{ITEM}$", "booking:delete", POST),
    _r(r"^/kegiatan/periksa/?$", "booking:check", POST),
    _r(r"^/opd/$", "home:page", browser=True),
    _r(r"^/pimpinan/$", "leaders:page", browser=True),
    _r(r"^/pimpinan/cetak/?$", "leaders:sheet"),
    _r(r"^/langganan/buat-ulang/?$", "feedlinks:rotate", POST),
    _r(r"^/langganan/([A-Za-z0-9_-]{32,128})/?$", "feedlinks:serve"),
    _r(r"^/admin/$", "overview:page", browser=True),
    # Prokopim's approval (issue 11)
    _r(r"^/persetujuan/?$", "approvals:page"),
    _r(r"^/persetujuan/setujui/?$", "approvals:approve", POST),
    _r(r"^/persetujuan/tolak/?$", "approvals:reject", POST),
]
#: First path segments the pages own (logins may not use them): kept in kalender.registry.
SEGMENTS = WEB_SEGMENTS
