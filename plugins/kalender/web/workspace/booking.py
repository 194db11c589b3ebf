"""Entering, changing and deleting an activity in the browser (issue 10 item 3).

``/kegiatan/baru/``, ``/kegiatan/ubah/<opd>/<name>``, ``/kegiatan/hapus/<opd>/<name>``
and the live check ``/kegiatan/periksa/``. The form (``compose``) becomes
iCalendar text (``icalform``) that is written through the CalDAV application
as the signed-in login (``internal.call``): the rights, the clash guard in the
storage lock, the audit trail and the Bentrok channel are those of a calendar
app's PUT, so a form can do nothing an app could not. The OPD is checked here
as well (an ``opd`` value outside the account's OPD is refused before any
write), and new items are written with ``If-None-Match: *``, edits with the
ETag the form was filled from (``If-Match``, RFC 9110 §13.1), so a change made
meanwhile in an app is never overwritten.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from kalender.clash.fields import event_identity
from kalender.errors import KalenderError
from kalender.pemda.protocol import DRESS
from kalender.registry import User
from kalender.web import respond
from kalender.web.render import render
from kalender.web.workspace import compose, icalform, internal, refusal, session
from kalender.web.workspace.compose import Choices, Values
from kalender.web.workspace.refusal import Refusal

WRITERS = ("pic", "admin")
ICS = "text/calendar; charset=utf-8"
JSON = "application/json; charset=utf-8"


def writable(request: Any, user: User) -> list[str]:
    """The OPD calendars ``user`` may write from the form: their own; every one for admins."""
    active = [o.id for o in request.registry.opds() if not o.archived]
    if user.role == "admin":
        return active
    return [o for o in user.opds if o in active]


def _own(request: Any, opd: str) -> tuple[User, list[str]]:
    """The signed-in writer, refused (403) for an OPD that is not theirs."""
    user = session.require(request, *WRITERS)
    opds = writable(request, user)
    if opd not in opds:
        raise respond.ForbiddenError("Kegiatan ini milik kalender OPD lain; akun Anda hanya "
                                     "dapat mengubah kegiatan OPD Anda sendiri.")
    return user, opds


def _query_fields(request: Any) -> dict[str, list[str]]:
    """Every value of the query (W2's free-slot links repeat ``pejabat``)."""
    return parse_qs(str(request.environ.get("QUERY_STRING", "")), keep_blank_values=True)


def _item_path(opd: str, name: str) -> str:
    """The CalDAV path of an item, its name percent-encoded."""
    return f"/opd/{opd}/{quote(name, safe='')}"


def _read_item(request: Any, opd: str, name: str) -> tuple[str, str]:
    """(text, ETag) of a stored item, read as the signed-in login."""
    if name in (".", "..") or "/" in name:
        raise respond.NotFoundError("Kegiatan tidak ditemukan.")
    answer = internal.call(request, "GET", _item_path(opd, name))
    if answer.status == 404:
        raise respond.NotFoundError("Kegiatan ini tidak ada (lagi) di kalender OPD; mungkin "
                                    "sudah dihapus di aplikasi lain.")
    if answer.status in (401, 403):
        raise respond.ForbiddenError("Akun Anda tidak berhak membuka kegiatan ini.")
    if answer.status != 200:
        raise KalenderError(f"Kegiatan tidak dapat dibaca (kode {answer.status}); coba lagi.")
    return answer.text, str(answer.headers.get("etag", ""))


def _page(request: Any, values: Values, opds: list[str], *, status: int = 200,
          found: Refusal | None = None, errors: dict[str, str] | None = None,
          item: tuple[str, str] | None = None, version: str = "",
          initial: Values | None = None) -> respond.Response:
    """The form, filled with ``values``, its sentences beside their fields."""
    registry = request.registry
    names = {o.id: o.name for o in registry.opds()}
    errors = {**(found.errors if found else {}), **(errors or {})}
    message = found.message if found else ""
    if errors and not message:
        message = "Periksa isian yang ditandai di bawah, lalu simpan lagi."
    action = f"/kegiatan/ubah/{item[0]}/{quote(item[1], safe='')}" if item else "/kegiatan/baru/"
    try:
        categories = request.index.categories()
    except Exception:  # the sync service has not written its index yet
        categories = []
    persons = list(registry.persons().values())
    labels = {**compose.LABELS, **{f"diwakili_{p.id}": f"Diwakili oleh (untuk {p.title})"
                                   for p in persons}}
    body = render(
        "ws/kegiatan_form.html", request=request, values=values, errors=errors,
        message=message, offers=found.offers if found else (), action=action,
        sumber=item, version=version, opds=[(o, names.get(o, o)) for o in opds],
        opd_name=names.get(item[0] if item else (opds[0] if opds else ""), ""),
        venues=sorted(registry.venues().values(), key=lambda v: v.name.casefold()),
        persons=persons, labels=labels, dress=DRESS,
        attachment=str(initial.get("lampiran", "")) if initial else "",
        keep_rule=bool(initial and initial.get("ulang") == compose.KEEP_RULE),
        categories=categories, offer_values=_offer_values, clock=compose.input_time)
    return respond.page(body, max_age=0, status=status, private=True)


def _offer_values(values: Values, changes: dict[str, str]) -> list[tuple[str, str]]:
    """The (name, value) pairs of a suggestion's GET form: the form as it is, changed."""
    merged = {**values, **changes}
    pairs: list[tuple[str, str]] = []
    for name in compose.FIELDS:
        value = merged.get(name)
        if isinstance(value, dict):  # diwakili_<person id>
            pairs += [(f"{name}_{k}", str(v)) for k, v in value.items()]
        elif isinstance(value, list):  # an empty one still says "none" (not "as stored")
            pairs += [(name, str(v)) for v in value] or [(name, "")]
        else:
            pairs.append((name, str(value or "")))
    return pairs


def _upload(request: Any) -> Any:
    """The invitation file posted with the form (``kalender.web.forms.Upload``), or None."""
    files = getattr(request, "files", None) or {}
    return next(iter(files.get("undangan") or []), None)


def _status(errors: dict[str, str], opds: list[str], values: Values) -> int:
    """403 for an OPD that is not the account's (nothing written), else 400."""
    chosen = str(values.get("opd") or "").strip()
    return 403 if "opd" in errors and chosen and chosen not in opds else 400


def _saved(uid: str) -> respond.Response:
    """303 to the OPD's page, which confirms the save."""
    return respond.redirect("/opd/?" + urlencode({"tersimpan": uid}))


def _put(request: Any, path: str, text: str, condition: dict[str, str]) -> internal.Internal:
    """PUT an item as the signed-in login."""
    return internal.call(request, "PUT", path, text.encode("utf-8"),
                         {**condition, "Content-Type": ICS})


def new(request: Any) -> respond.Response:
    """``/kegiatan/baru/``: GET the form (query values filled in), POST to save."""
    user = session.require(request, *WRITERS)
    opds = writable(request, user)
    if not opds:
        raise respond.ForbiddenError("Akun Anda belum terhubung ke kalender OPD yang aktif; "
                                     "hubungi admin Kalender OPD.")
    if request.method != "POST":
        values = compose.values_of(_query_fields(request))
        if not values["opd"] and user.role != "admin":
            values["opd"] = opds[0]
        return _page(request, values, opds)
    values = compose.values_of(request.form)
    choices = Choices.of(request.registry)
    entry, errors = compose.read(values, choices, opds, upload=_upload(request))
    if entry is None:
        return _page(request, values, opds, status=_status(errors, opds, values), errors=errors)
    uid = icalform.new_uid()
    text = icalform.build(entry, choices, uid, request.now)
    answer = _put(request, _item_path(entry.opd, icalform.file_name(uid)), text,
                  {"If-None-Match": "*"})
    if answer.status in (200, 201, 204):
        return _saved(uid)
    found = refusal.of_answer(answer.status, answer.body, request.registry, entry.tanggal)
    return _page(request, values, opds, status=answer.status, found=found)


def _initial(text: str, choices: Choices, opd: str) -> Values:
    """The form values of a stored item (400 when the form cannot read it)."""
    try:
        initial = icalform.form_values(text, choices)
    except (KalenderError, ValueError, KeyError) as e:
        raise respond.BadQueryError("Kegiatan ini tidak dapat dibuka di formulir; ubah lewat "
                                    "aplikasi kalender.") from e
    initial["opd"] = opd
    return initial


def edit(request: Any, opd: str, name: str) -> respond.Response:
    """``/kegiatan/ubah/<opd>/<name>``: GET the filled form, POST the changes (If-Match)."""
    _own(request, opd)
    text, etag = _read_item(request, opd, name)
    choices = Choices.of(request.registry)
    initial = _initial(text, choices, opd)
    item = (opd, name)
    if request.method != "POST":
        query = _query_fields(request)
        values = compose.values_of(query, initial)  # a suggestion's link: the PIC's changes
        values["opd"] = opd
        version = (query.get("versi") or [etag])[0]
        return _page(request, values, [opd], item=item, version=version, initial=initial)
    values = compose.values_of(request.form)
    values["opd"] = opd  # an item stays in its calendar (moving it is a CalDAV MOVE)
    # the version the form was filled from: If-Match refuses (412) when an app changed it since
    version = request.posted("versi") or etag
    entry, errors = compose.read(values, choices, [opd], initial, _upload(request))
    if entry is None:
        return _page(request, values, [opd], status=400, errors=errors, item=item,
                     version=version, initial=initial)
    changed = icalform.apply(entry, text, choices, request.now)
    uid = event_identity(text)[0]
    if changed == text:
        return _saved(uid)
    answer = _put(request, _item_path(opd, name), changed, {"If-Match": version})
    if answer.status in (200, 201, 204):
        return _saved(uid)
    found = refusal.of_answer(answer.status, answer.body, request.registry, entry.tanggal)
    return _page(request, values, [opd], status=answer.status, found=found, item=item,
                 version=version, initial=initial)


def delete(request: Any, opd: str, name: str) -> respond.Response:
    """``/kegiatan/hapus/<opd>/<name>`` (POST): ask to confirm, then delete (If-Match)."""
    _own(request, opd)
    text, etag = _read_item(request, opd, name)
    version = request.posted("versi") or etag
    item = (opd, name)
    title = compose.one_line(event_identity(text)[1])
    if request.posted("yakin") != "ya":
        body = render("ws/kegiatan_hapus.html", request=request, sumber=item, title=title,
                      version=version, message="")
        return respond.page(body, max_age=0, private=True)
    answer = internal.call(request, "DELETE", _item_path(opd, name), b"",
                           {"If-Match": version})
    if answer.status in (200, 204):
        return respond.redirect("/opd/?" + urlencode({"dihapus": event_identity(text)[0]}))
    found = refusal.of_answer(answer.status, answer.body, request.registry)
    body = render("ws/kegiatan_hapus.html", request=request, sumber=item, title=title,
                  version=etag, message=found.message)
    return respond.page(body, max_age=0, status=answer.status, private=True)


def check(request: Any) -> respond.Response:
    """``/kegiatan/periksa/`` (POST, JSON): the form's errors and clashes, nothing written."""
    user = session.require(request, *WRITERS)
    choices = Choices.of(request.registry)
    values = compose.values_of(request.form)
    opds = writable(request, user)
    original, initial = None, None
    source = request.posted("asal")
    if source:
        opd, _, name = source.partition("/")
        if opd not in opds:
            raise respond.ForbiddenError("Kegiatan ini milik kalender OPD lain.")
        original, _ = _read_item(request, opd, name)
        initial = _initial(original, choices, opd)
        values["opd"] = opd
    elif not values["opd"] and len(opds) == 1:
        values["opd"] = opds[0]
    entry, errors = compose.read(values, choices, opds, initial)
    result: dict[str, Any] = {"ok": False, "errors": errors, "message": "", "clashes": [],
                              "suggestions": []}
    if entry is not None:
        text = (icalform.apply(entry, original, choices, request.now) if original is not None
                else icalform.build(entry, choices, icalform.new_uid(), request.now))
        try:
            trial = request.storage.guard.trial(f"/opd/{entry.opd}/", text, user.login)
        except KalenderError as e:
            result["message"] = e.message
        else:
            found = refusal.of_trial(trial, request.registry, entry.tanggal)
            result.update(ok=trial.accepted, message=found.message,
                          errors={**found.errors} if not trial.accepted else {},
                          clashes=[dict(d) for d in found.clashes],
                          suggestions=[{"label": o.label, "fields": o.fields()}
                                       for o in found.offers])
    return respond.page(json.dumps(result, ensure_ascii=False), JSON, max_age=0,
                        private=True)
