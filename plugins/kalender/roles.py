"""Roles: what each account may do (the rights file) and which calendars it discovers.

The rights matrix (README, "Peran dan hak akses"):

=========  ============  ==========  ==============  ================  ========  ========  ========
role       own OPD       other OPD   /publik/agenda  /pimpinan/agenda  /ruang/*  /orang/*  /bentrok/
=========  ============  ==========  ==============  ================  ========  ========  ========
pic        read + write  none        read            none              read      none      own: r
pimpinan   read          read        read            read              read      read      r
protokol   read          read        read            read              read      read      r
admin      everything    everything  everything      everything        all       all       r
sync       read          read        read + write    read + write      r + w     r + w     none
anonymous  none          none        GET only        none              none      none      none
=========  ============  ==========  ==============  ================  ========  ========  ========

``protokol`` is the protocol office (Prokopim): it reads like pimpinan and
approves activities (``kalender.pemda.decisions``), which writes no calendar.

The Bentrok calendars are written by the server itself (``kalender.notify``),
through the storage and not over HTTP, so no login may write them.

Calendar collections themselves (delete, overwrite, properties) are admin-only
through ``permit_delete_collection = False`` / ``permit_overwrite_collection =
False`` and the admin's ``D``/``O`` flags; a PIC's PROPPATCH is limited to the
colour by ``kalender.dav.app``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources

from kalender.registry import LEADER_ROLES, Opd, User

PUBLIC_AGENDA = "/publik/agenda/"
LEADERS_AGENDA = "/pimpinan/agenda/"
MERGED_CALENDARS = (PUBLIC_AGENDA, LEADERS_AGENDA)
SECTION_MARKER = "@ROLE_SECTIONS@"


def _alternation(values: Sequence[str]) -> str:
    """A regex matching exactly one of ``values``."""
    return "(" + "|".join(re.escape(v) for v in values) + ")"


def _section(name: str, users: Sequence[str], collection: str, permissions: str) -> str:
    """One from_file rights section for the given logins."""
    return (f"[{name}]\nuser: {_alternation(users)}\ncollection: {collection}\n"
            f"permissions: {permissions}\n")


def role_sections(users: Sequence[User], opds: Sequence[Opd]) -> str:
    """The per-login rights sections for ``users`` (placed before the generic ones)."""
    by_role: dict[str, list[str]] = {}
    for u in users:
        by_role.setdefault(u.role, []).append(u.login)
    active = {o.id for o in opds if not o.archived}
    out: list[str] = []
    readers = by_role.get("admin", []) + [login for role in LEADER_ROLES if role != "admin"
                                          for login in by_role.get(role, [])]
    if readers:
        # Only the server writes the Bentrok calendars (kalender.notify.worker, not HTTP):
        # leaders and admins read them; this comes before the admin's catch-all.
        out.append(_section("bentrok-read", readers, "bentrok/[^/]+", "r"))
    if by_role.get("admin"):
        # R/W: collections and principals, D/O: delete and overwrite calendars.
        out.append(_section("admin", by_role["admin"], ".*", "RrWwDO"))
    if by_role.get("sync"):
        out.append(_section("sync-write", by_role["sync"],
                            "(publik|pimpinan)/agenda|(ruang|orang)/[^/]+", "rw"))
        out.append(_section("sync-read", by_role["sync"], "opd/[^/]+", "r"))
    for u in users:
        if u.role != "pic":
            continue
        own = [o for o in u.opds if o in active]
        if own:
            out.append(_section(f"pic-{u.login}", [u.login],
                                "opd/" + _alternation(own), "rw"))
            out.append(_section(f"pic-{u.login}-bentrok", [u.login],
                                "bentrok/" + _alternation(own), "r"))
    # the protocol office reads like pimpinan; its decisions are kept in kalender.db
    leaders = by_role.get("pimpinan", []) + by_role.get("protokol", [])
    if leaders:
        out.append(_section("pimpinan", leaders,
                            "opd/[^/]+|(publik|pimpinan)/agenda|(ruang|orang)/[^/]+", "r"))
    return "\n".join(out)


def rights_text(users: Sequence[User], opds: Sequence[Opd]) -> str:
    """The whole rights file for a deployment, from the shipped template."""
    template = resources.files("kalender_config").joinpath("rights.template").read_text("utf-8")
    return template.replace(SECTION_MARKER, role_sections(users, opds).rstrip("\n"))


def bentrok_href(opd_id: str) -> str:
    """Collection path of an OPD's Bentrok calendar, e.g. ``/bentrok/dinkes/``."""
    return f"/bentrok/{opd_id}/"


def bentrok_calendar(opd_href: str) -> str:
    """The Bentrok calendar of an OPD calendar: ``/opd/dinkes/`` -> ``/bentrok/dinkes/``."""
    return bentrok_href(opd_href.strip("/").split("/", 1)[1])


def person_href(person_id: str) -> str:
    """Collection path of a key person's agenda, e.g. ``/orang/wali-kota/``."""
    return f"/orang/{person_id}/"


def visible_calendars(user: User | None, opds: Sequence[Opd],
                      persons: Sequence[str] = ()) -> list[str]:
    """Collection paths listed in ``user``'s home for discovery (RFC 6764, RFC 4791 §6.2.1).

    ``persons``: the registered key persons' ids; pimpinan and protokol also discover their
    agendas (``/orang/<id>/``), which the sync service keeps.
    """
    if user is None:
        return []
    active = [o.href for o in opds if not o.archived]
    if user.role == "pic":
        mine = {f"/opd/{o}/" for o in user.opds}
        own = [h for h in active if h in mine]
        return own + [PUBLIC_AGENDA] + [bentrok_calendar(h) for h in own]
    if user.role in ("pimpinan", "protokol"):
        return [LEADERS_AGENDA, *active, *(person_href(p) for p in persons)]
    if user.role == "admin":
        return [LEADERS_AGENDA, PUBLIC_AGENDA, *(o.href for o in opds)]
    if user.role == "sync":
        return list(MERGED_CALENDARS)
    return []
