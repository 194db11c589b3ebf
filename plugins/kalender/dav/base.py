"""The base of Kalender OPD's Radicale application: one place where errors become HTTP.

``kalender.dav.storage`` refuses a write by raising a ``kalender.errors``
exception. Those are ``ValueError``s, so Radicale's own handlers turn them into
a plain ``400`` (still refused, nothing written) when Radicale runs without
this package (``python -m radicale``). Under ``kalender serve``
:func:`error_response` replaces that answer with the exception's own status,
reason phrase and a ``DAV:error`` body (RFC 4918 §16) holding a precondition
element in the project's namespace and a sentence in Bahasa Indonesia
(Evolution gets the sentence alone, :func:`for_client`). The parts of the
application (``kalender.dav.login``, ``.properties``,
``.refused``, ``.app``) build on :class:`Base`, the way Radicale's own
``ApplicationPart*`` classes do.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from radicale import Application as RadicaleApplication
from radicale import types

from kalender.dav import answers, storage
from kalender.errors import KalenderError

NS = answers.NS
DAV = answers.DAV
#: Carries a refusal's reason phrase from a handler to the status line (then dropped).
REASON_HEADER = "X-Kalender-Reason"

#: The refusal answered by error_response on this thread (read at the end of the request).
answered = threading.local()
#: User-Agent of evolution-data-server (and so of Evolution and GNOME Calendar).
EVOLUTION = re.compile(r"\s*Evolution/", re.IGNORECASE)


def error_response(error: KalenderError) -> types.WSGIResponse:
    """The HTTP answer for ``error``: status, headers and a DAV:error body."""
    body = answers.dav_error(f"{{{NS}}}{error.condition}", error.message,
                             [(f"{{{NS}}}clash", d) for d in error_details(error)]
                             + [(answers.k(name), d) for name, d in error_offers(error)])
    headers = {"Content-Type": answers.CONTENT_TYPE, REASON_HEADER: error.reason}
    answered.error = error
    return error.status, headers, body, None


def error_details(error: KalenderError) -> list[dict[str, str]]:
    """Machine-readable attributes of each clash carried by ``error`` (empty otherwise)."""
    details = getattr(error, "details", None)
    return list(details()) if callable(details) else []


def error_offers(error: KalenderError) -> list[tuple[str, dict[str, str]]]:
    """The ``free-time``/``free-venue`` elements a refused clash offers (empty otherwise)."""
    offered = getattr(error, "offered", None)
    return list(offered()) if callable(offered) else []


def refused_early(error: KalenderError) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """``error_response(error)`` in ``_handle_request``'s form, for a refusal before Radicale."""
    status, headers, body, _ = error_response(error)
    assert isinstance(body, bytes)
    fields = [(k, v) for k, v in dict(headers).items() if k != REASON_HEADER]
    return f"{status} {error.reason}", [*fields, ("Content-Length", str(len(body)))], [body]


def for_client(environ: types.WSGIEnviron, status_text: str, headers: list[tuple[str, str]],
               body: list[bytes]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """The finished answer, with a 4xx's sentence alone as text/plain for Evolution.

    evolution-data-server (e-webdav-session.c,
    ``e_webdav_session_extract_dav_error``) shows a DAV:error body as all of its
    text followed by ``[name]`` for every child element of DAV:error, so the
    RFC 4918 §16 precondition element always shows (``...[no-venue-clash][message]``);
    a ``text/plain`` body it shows as it is. It names itself in every request
    (``User-Agent: Evolution/<version>``, e-soup-session.c). Every other client
    keeps the DAV:error its programs read; both forms say ``Vary: User-Agent``
    (RFC 9110 §12.5.5). Status and reason phrase never change.
    """
    if not 400 <= int(status_text[:3]) < 500:
        return status_text, headers, body
    vary = [v for k, v in headers if k.lower() == "vary"]
    headers = [(k, v) for k, v in headers if k.lower() != "vary"]
    headers.append(("Vary", ", ".join([*vary, "User-Agent"])))
    if not EVOLUTION.match(environ.get("HTTP_USER_AGENT", "")):
        return status_text, headers, body
    message = answers.sentence(headers, body)
    if message is None:
        return status_text, headers, body
    text = message.encode("utf-8")
    kept = [(k, v) for k, v in headers
            if k.lower() not in ("content-type", "content-length", "content-encoding")]
    return status_text, [*kept, ("Content-Type", "text/plain; charset=utf-8"),
                         ("Content-Length", str(len(text)))], [text]



class Base(RadicaleApplication):
    """Radicale's application plus the helpers every part of ours uses."""

    def _role(self, user: str) -> str:
        """Role of ``user`` in the deployment ('' when unknown or anonymous)."""
        registry = getattr(self._storage, "registry", None)
        account = registry.user(user) if registry is not None and user else None
        return account.role if account is not None else ""

    def _guarded(self, method: Callable[..., types.WSGIResponse], environ: types.WSGIEnviron,
                 *args: Any) -> types.WSGIResponse:
        """Run a Radicale handler; a refusal raised by the storage becomes its own answer."""
        storage.clear_refusal()
        try:
            answer = method(environ, *args)
        except KalenderError as e:
            return error_response(e)
        refusal = storage.take_refusal()
        return error_response(refusal) if refusal is not None else answer

    def _plain(self, status: int, message: str, condition: str | None = None
               ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """A DAV:error answer made before Radicale runs (401 with the login challenge).

        ``condition`` is the local name of the precondition element in the
        project's namespace (default: the one of ``status``, kalender.dav.answers).
        """
        default = answers.plain_explanation(status, "", {})
        explanation = answers.Explanation(
            answers.k(condition) if condition else default.condition, default.reason, message)
        return self._answer(status, explanation)

    def _answer(self, status: int, explanation: answers.Explanation,
                extra: tuple[tuple[str, str], ...] = ()
                ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """A complete DAV:error answer (401 with the login challenge, RFC 7235 §3.1)."""
        body = answers.dav_error(explanation.condition, explanation.message)
        headers = [("Content-Type", answers.CONTENT_TYPE), ("Content-Length", str(len(body))),
                   *extra]
        if status == 401:
            headers.append(("WWW-Authenticate", f'Basic realm="{self._auth_realm}"'))
        return f"{status} {explanation.reason}", headers, [body]
