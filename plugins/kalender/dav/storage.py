"""Storage plugin: Radicale's multifilesystem storage plus discovery, audit and guards.

``[storage] type = kalender.dav.storage``. The glue stays thin: every write path
calls the guard first (which raises a ``kalender.errors`` exception to refuse),
then Radicale's own implementation, then records the accepted change. All of
it runs inside the write lock the Radicale app already holds for the request
(taking it again would deadlock).

Discovery: a user's home (``/<login>/``, RFC 4791 §6.2.1 calendar-home-set)
lists, at Depth 1, the calendars of the user's role (``kalender.roles``) even
though they live under ``/opd/`` and ``/publik/``. Radicale still filters each
listed collection through the rights of the real user, so nothing is shown
that the user may not read, and writes keep the real user's rights.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path
from typing import Any, NoReturn, overload

from radicale import config, pathutils, types
from radicale import item as radicale_item
from radicale.storage import multifilesystem

from kalender.clash.extract import Limits
from kalender.clash.guard import Guard
from kalender.clash.index import uid_of
from kalender.clash.planned import Change
from kalender.clash.repair import WHOLE
from kalender.clash.rules import BLOCK, POLICIES
from kalender.dav import outputs
from kalender.dav.changes import CHANGES
from kalender.dav.props import COSMETIC, Overlay, overlaid
from kalender.deployment import CachedRegistry, Deployment
from kalender.errors import ForbiddenChangeError, KalenderError
from kalender.notify import upkeep
from kalender.registry import RESERVED_SEGMENTS
from kalender.roles import visible_calendars
from kalender_sync.served import Served

_request = threading.local()
#: Calendar properties every user may set for themselves (kept per user by
#: kalender.dav.props, never in the shared .Radicale.props).
USER_PROPERTIES = COSMETIC


def current_actor() -> str:
    """The logged-in user of the write being processed by this thread."""
    return getattr(_request, "actor", "") or ""


def refuse(error: KalenderError) -> NoReturn:
    """Raise ``error``, remembering it for ``kalender.dav.app`` (Radicale maps it to 400)."""
    _request.refusal = error
    raise error


def serving(path: str) -> None:
    """Remember the path of the request this thread serves ("" when done): see acquire_lock."""
    _request.path = path


def clear_refusal() -> None:
    """Forget a refusal left by an earlier request on this thread."""
    _request.refusal = None


def take_refusal() -> KalenderError | None:
    """The refusal raised during the current request, if any (and forget it)."""
    error: KalenderError | None = getattr(_request, "refusal", None)
    _request.refusal = None
    return error


def _text(item: radicale_item.Item | None) -> str | None:
    """Serialized iCalendar of ``item`` or None."""
    return item.serialize() if item is not None else None


class Collection(multifilesystem.Collection):
    """A collection whose writes are guarded, indexed and audited."""

    _storage: Storage

    def __new__(cls, storage_: Storage, path: str, *args: Any, **kwargs: Any) -> Collection:
        """An output calendar's path makes an OutputCollection, wherever Radicale lists it.

        (A home's or a parent's Depth 1 listing builds its children itself: their
        getctag and sync-token must come from sync.db too.)
        """
        if cls is Collection and outputs.is_calendar(path):
            cls = OutputCollection
        return super().__new__(cls)

    def has_uid(self, uid: str) -> bool:
        """UID lookup before a PUT, from the index (vanilla reads every item)."""
        index = self._storage.guard.index
        if index.is_indexed(self.path):
            return index.has_uid(self.path, uid)
        return bool(super().has_uid(uid))

    def upload(self, href: str, item: radicale_item.Item
               ) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        """PUT of one item: plan and check, write, record."""
        store = self._storage
        with store.refusals():
            store.guard.maintain(store.read_item)
            planned = store.guard.plan(self.path, href, item.serialize(), item.uid)
            note = store.guard.check([planned], current_actor())
        store.guard.index.begin(self.path, [href])
        new, old = super().upload(href, item)
        store.guard.commit(Change(
            put=[(planned, new.etag)],
            entries=[("update" if old else "create", _path(self.path), href, _text(old),
                      planned.text, note)]), current_actor())
        return new, old

    def delete(self, href: str | None = None) -> None:
        """DELETE of one item or of the whole collection."""
        before = _text(self._get(href)) if href is not None else None
        self._storage.guard.index.begin(self.path, [href if href is not None else WHOLE])
        super().delete(href)
        self._storage.guard.commit(Change(
            remove=[(self.path, href)],
            entries=[("delete", _path(self.path), href, before, None, None)]), current_actor())

    @overload
    def get_meta(self, key: None = None) -> Mapping[str, str]: ...

    @overload
    def get_meta(self, key: str) -> str | None: ...

    def get_meta(self, key: str | None = None) -> Mapping[str, str] | str | None:
        """The shared properties; inside ``Storage.viewing`` with the viewer's own values."""
        view = getattr(_request, "view", None)
        own = view.get(self.path) if view else None
        if not own or (key is not None and key not in own):
            return super().get_meta(key)
        merged = overlaid(super().get_meta(), own)
        return merged if key is None else merged.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        """PROPPATCH (also called on the temporary copy inside create_collection)."""
        real = self._storage.is_real_collection(self)
        before = dict(self.get_meta()) if real else None
        if before is not None:
            kept: frozenset[str] = getattr(_request, "kept", frozenset())
            if kept:
                # An admin's personal properties go to their overlay (Storage.keeping).
                shared = {k: v for k, v in props.items() if k not in kept}
                shared.update({k: before[k] for k in kept if k in before})
                if shared == before:
                    return
                props = shared
            with self._storage.refusals():
                self._storage.guard_props(before, props)
        super().set_meta(props)
        if before is not None:
            self._storage.guard.commit(Change(entries=[
                ("props", _path(self.path), None, repr(before), repr(dict(props)), None)]),
                current_actor())


class OutputCollection(outputs.OutputPart, Collection):
    """An output calendar: properties from its folder, items from sync.db (kalender.dav.outputs)."""

    def upload(self, href: str, item: radicale_item.Item
               ) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        """Only the sync writes an output calendar."""
        refuse(outputs.refused())

    def delete(self, href: str | None = None) -> None:
        """Only the sync writes an output calendar (and it is never deleted)."""
        refuse(outputs.refused())


def _path(collection: str) -> str:
    """``opd/dinkes`` -> ``/opd/dinkes/``."""
    return "/" + collection.strip("/") + "/"


class Storage(multifilesystem.Storage):
    """multifilesystem storage with role-aware discovery, clash guard and audit trail."""

    _collection_class = Collection

    def __init__(self, configuration: config.Configuration) -> None:
        super().__init__(configuration)
        try:
            root = Path(configuration.get("storage", "kalender_dir"))
        except KeyError:
            root = Path(configuration.get("storage", "filesystem_folder")).parent
        self.deployment = Deployment(root)
        self.registry = CachedRegistry(self.deployment)
        self.guard = Guard(self.deployment, self.registry, limits=Limits(
            horizon_days=_int_option(configuration, "kalender_horizon_days", 730),
            max_occurrences=_int_option(configuration, "kalender_max_occurrences", 5000),
            max_exdates=_int_option(configuration, "kalender_max_exdates", 2000),
            max_rdates=_int_option(configuration, "kalender_max_rdates", 2000),
            max_overrides=_int_option(configuration, "kalender_max_overrides", 1000),
            # what Radicale refuses with a bare 400 is refused first, with a sentence
            radicale_limit=int(configuration.get("server", "max_vevent_rrule_occurrence"))),
            tentative=_tentative_option(configuration))
        self.guard.on_change = CHANGES.note
        self.guard.on_items = upkeep.hook(self.registry)  # Bentrok notices follow the index
        self.guard.read_item = self.read_item
        self.guard.list_hrefs = self.list_hrefs
        self.overlay = Overlay(self.deployment.database)
        self.served = Served(root / "sync.db")

    # -- who is writing --------------------------------------------------
    @contextlib.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any
                     ) -> Iterator[None]:
        """Radicale's lock; for writes, remember the actor for the audit trail.

        A read of an output calendar takes no lock: it reads sync.db, never the
        storage (kalender.dav.outputs), so no reader holds a writer.
        """
        if mode == "r" and outputs.is_output(getattr(_request, "path", "")):
            yield
            return
        with super().acquire_lock(mode, user, *args, **kwargs):
            if mode != "w":
                yield
                return
            _request.actor = kwargs.get("actor") or user
            try:
                yield
            finally:
                _request.actor = ""

    @staticmethod
    @contextlib.contextmanager
    def refusals() -> Iterator[None]:
        """Route a KalenderError raised inside to ``refuse`` (so kalender.dav.app sees it)."""
        try:
            yield
        except KalenderError as e:
            refuse(e)

    # -- per-user properties (kalender.dav.props) ----------------------------
    @contextlib.contextmanager
    def viewing(self, login: str) -> Iterator[None]:
        """Within: collections show ``login``'s own property values (their PROPFIND)."""
        _request.view = self.overlay.view(login) if login else None
        try:
            yield
        finally:
            _request.view = None

    @staticmethod
    @contextlib.contextmanager
    def keeping(names: frozenset[str]) -> Iterator[None]:
        """Within: ``set_meta`` leaves the shared values of ``names`` unchanged."""
        _request.kept = names
        try:
            yield
        finally:
            _request.kept = frozenset()

    # -- discovery ---------------------------------------------------------
    def discover(self, path: str, depth: str = "0",
                 child_context_manager: Callable[[str, str | None], ContextManager[None]]
                 | None = None,
                 user_groups: set[str] | None = None) -> Iterator[types.CollectionOrItem]:
        """Radicale's discover; a home at Depth 1 also lists the role's calendars."""
        groups = user_groups if user_groups is not None else set()
        output = outputs.split(path)
        if output is not None:
            yield from self._discover_output(*output, depth)
            return
        yield from super().discover(path, depth, child_context_manager, groups)
        parts = pathutils.strip_path(path).split("/")
        if depth != "1" or len(parts) != 1 or not parts[0] or parts[0] in RESERVED_SEGMENTS:
            return
        user = self.registry.user(parts[0])
        for href in visible_calendars(user, self.registry.opds(), list(self.registry.persons())):
            yield from super().discover(href, "0", child_context_manager, groups)

    def _discover_output(self, calendar: str, href: str | None, depth: str
                         ) -> Iterator[types.CollectionOrItem]:
        """An output calendar (its folder must exist) or one of its copies, from sync.db."""
        folder = pathutils.path_to_filesystem(self._get_collection_root_folder(), calendar,
                                              self._is_collision_free)
        if not Path(folder).is_dir():
            return
        col = OutputCollection(self, pathutils.unstrip_path(calendar, True))
        if href is not None:
            item = col._get(href)
            if item is not None:
                yield item
            return
        yield col
        if depth != "0":
            yield from col.get_all()

    def read_item(self, collection: str, href: str) -> tuple[str, str, str] | None:
        """(text, etag, uid) of a stored item as stored, or None."""
        col = next(iter(self.discover(_path(collection))), None)
        if not isinstance(col, multifilesystem.Collection):
            return None
        path = pathutils.path_to_filesystem(col._filesystem_path, href, self._is_collision_free)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            return None
        return text, radicale_item.get_etag(text), uid_of(text) or href

    def list_hrefs(self, collection: str) -> list[str]:
        """Item names stored in a calendar (empty when it does not exist)."""
        col = next(iter(self.discover(_path(collection))), None)
        return list(col._list()) if isinstance(col, multifilesystem.Collection) else []

    # -- write paths -------------------------------------------------------
    def guard_props(self, before: Mapping[str, str], after: Mapping[str, str]) -> None:
        """Only an admin changes a calendar's shared properties.

        Everyone else's PROPPATCH is kept per user by kalender.dav.app and
        kalender.dav.props before it gets here; this refuses what slips past
        (e.g. under ``python -m radicale``, without Kalender OPD's application).
        """
        if self.guard.is_admin(current_actor()):
            return
        if any(before.get(k) != after.get(k) for k in set(before) | set(after)):
            raise ForbiddenChangeError(
                "Properti bersama kalender hanya dapat diubah admin; nama, deskripsi, warna, "
                "urutan dan alarm bawaan dapat Anda ubah untuk tampilan Anda sendiri.")

    def create_collection(self, href: str,
                          items: Iterable[radicale_item.Item] | None = None,
                          props: Mapping[str, str] | None = None,
                          ) -> tuple[multifilesystem.Collection,
                                     dict[str, radicale_item.Item], list[str]]:
        """MKCALENDAR, MKCOL and whole-calendar PUT (an import, checked as a whole)."""
        path = pathutils.strip_path(href)
        if items is None:
            col, replaced, new_hrefs = super().create_collection(href, None, props)
            if props:
                self.guard.commit(Change(entries=[
                    ("create", _path(path), None, None, repr(dict(props)), None)]),
                    current_actor())
            return col, replaced, new_hrefs
        if outputs.is_output(path):
            refuse(outputs.refused())
        materialised = list(items)
        with self.refusals():
            self.guard.maintain(self.read_item)
            planned = [self.guard.plan(path, i.href or "", i.serialize(), i.uid)
                       for i in materialised]
            note = self.guard.check(planned, current_actor(), replacing=path)
        self.guard.index.begin(path, [WHOLE])
        col, replaced, new_hrefs = super().create_collection(href, materialised, props)
        # Radicale names the stored files after the UIDs: index them by their real hrefs.
        stored = {i.uid: i for i in col.get_all()}
        puts = [(p, stored[p.uid].etag) for p in planned if p.uid in stored]
        for p, _ in puts:
            p.href = stored[p.uid].href or p.href
        before = "".join(i.serialize() for i in replaced.values()) or None
        self.guard.commit(Change(
            remove=[(path, None)], put=puts,
            entries=[("import", _path(path), None, before,
                      "".join(p.text for p in planned), note)]), current_actor())
        return col, replaced, new_hrefs

    def move(self, item: radicale_item.Item, to_collection: Any, to_href: str) -> None:
        """MOVE of one item, possibly to another calendar (checked there)."""
        assert item.collection is not None and item.href is not None
        source, text = item.collection.path, item.serialize()
        if outputs.is_output(source) or outputs.is_output(to_collection.path):
            refuse(outputs.refused())
        with self.refusals():
            self.guard.maintain(self.read_item)
            planned = self.guard.plan(to_collection.path, to_href, text, item.uid)
            note = self.guard.check([planned], current_actor(), moved_from=source)
        self.guard.index.begin(source, [item.href])
        self.guard.index.begin(to_collection.path, [to_href])
        etag = item.etag
        super().move(item, to_collection, to_href)
        self.guard.commit(Change(
            remove=[(source, item.href)], put=[(planned, etag)],
            entries=[("move", _path(to_collection.path), to_href,
                      f"{_path(source)}{item.href}", text, note)]), current_actor())

    # -- bookkeeping -------------------------------------------------------
    def is_real_collection(self, collection: multifilesystem.Collection) -> bool:
        """False for the temporary copy create_collection works on."""
        expected = pathutils.path_to_filesystem(
            self._get_collection_root_folder(), collection.path, self._is_collision_free)
        return bool(collection._filesystem_path == expected)


def _int_option(configuration: config.Configuration, name: str, default: int) -> int:
    """An integer option of ours in [storage]."""
    try:
        return int(configuration.get("storage", name))
    except KeyError:
        return default


def _tentative_option(configuration: config.Configuration) -> str:
    """``[storage] kalender_tentative``: how tentative holds count (kalender.clash.rules)."""
    try:
        raw = str(configuration.get("storage", "kalender_tentative"))
    except KeyError:
        return BLOCK  # an older deployment's config: holds block, as before
    value = raw.strip().lower()
    if value not in POLICIES:
        raise ValueError(f"[storage] kalender_tentative harus {' atau '.join(POLICIES)}, "
                         f"bukan {raw!r}")
    return value
