"""A PUT planned before Radicale parses it, and outside the storage lock.

Radicale's ``do_PUT`` reads the body, parses it with vobject (outside the
lock), then takes the storage lock and calls ``Collection.upload`` (or
``Storage.create_collection`` for a whole calendar), where the clash guard
parses and expands it again (``kalender.clash.guard``). Planning the raw body
here first gives two things:

* a body the server refuses is refused with a sentence saying what to change
  (``kalender.clash.icaltext``, ``kalender.clash.recurrence``) before vobject
  sees it: vobject's refusals are a bare ``400 Bad Request``, and some bodies
  cost vobject seconds (a rule that never matches is searched to the year 9999);
* the expansion, the costly part of a recurring event, runs without holding
  the lock that every other OPD's write waits for; ``Guard.plan`` inside the
  lock reuses the result (same thread, same collection and UID, same registry).

Only PUTs into OPD calendars (``/opd/<id>/...``) by users allowed to write
there are planned; Radicale answers everything else as before.
"""

from __future__ import annotations

import io
from typing import Any

from radicale import httputils, types
from radicale.app.base import Access

from kalender.dav import storage


def plan_put(app: Any, environ: types.WSGIEnviron, path: str, user: str,
             user_groups: set[str]) -> None:
    """Plan the body of a PUT to an OPD calendar; raises a KalenderError to refuse it.

    ``path`` is the sanitised request path Radicale hands to ``do_PUT``. The
    body is read (through the request gate, ``kalender.dav.gate``) and put back
    for Radicale.
    """
    store = getattr(app, "_storage", None)
    parts = path.strip("/").split("/")
    if not isinstance(store, storage.Storage) or len(parts) < 2 or parts[0] != "opd":
        return
    if not user or not Access(app._rights, user, user_groups, path).check("w"):
        return  # Radicale answers with its own refusal, without reading the body
    try:
        raw = httputils.read_raw_request_body(app.configuration, environ)
    except RuntimeError:  # shorter than its Content-Length: Radicale answers it
        return
    environ["wsgi.input"] = io.BytesIO(raw)  # type: ignore[index]
    text = httputils.decode_request(app.configuration, environ, raw)
    whole = len(parts) == 2  # a PUT to /opd/<id>/ replaces the whole calendar (an import)
    collection = "/".join(parts) if whole else "/".join(parts[:-1])
    store.guard.plan_ahead(collection, text, whole)


def done(app: Any) -> None:
    """Forget what was planned for this thread's request."""
    store = getattr(app, "_storage", None)
    if isinstance(store, storage.Storage):
        store.guard.forget_ahead()
