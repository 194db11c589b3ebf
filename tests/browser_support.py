"""Headless Chromium for the web tests (issue 9, item 9): fixtures and checks.

Debian's ``chromium`` (``.ci/run`` installs it) driven by Playwright's sync API;
Playwright's own browser download is never used. A test module uses these
fixtures by naming them: ``browser = browser_support.browser`` (pytest finds a
fixture among a module's names; ``pytest_plugins`` would register this module
after the test module imported it, too late for assertion rewriting).

- ``browser``: one Chromium per test module;
- ``open_page(url, size)``: a new page at a named viewport (``PHONE`` 360x740,
  ``DESKTOP`` 1366x900, ``TV`` 1920x1080, ``TV_PORTRAIT`` 1080x1920), in WIB and
  Indonesian, that records console errors, page errors, CSP refusals and
  dialogs (``page_problems``);
- ``axe_violations(page)``: axe-core's serious and critical WCAG 2.1 A/AA
  violations, axe run with ``page.evaluate`` (CDP's Runtime.evaluate is not
  subject to the page's Content-Security-Policy, a <script> tag would be);
- ``screenshot(page, name)``: a PNG in ``$RESULTS_DIR/screenshots`` (CI keeps
  it as an artefact) or ``tests/.artifacts/screenshots``; looked at, never
  compared pixel by pixel;
- ``assert_no_horizontal_scroll(page)``: the page fits its viewport's width.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

PHONE = (360, 740)
DESKTOP = (1366, 900)
TV = (1920, 1080)
TV_PORTRAIT = (1080, 1920)
SIZES = {"phone": PHONE, "desktop": DESKTOP, "tv": TV, "tv-portrait": TV_PORTRAIT}

#: Without the background-networking flags Chromium keeps calling Google's hosts,
#: refused one by one on a closed network; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: The WCAG 2.1 A and AA rules (axe-core tags) the pages must pass; "best-practice"
#: rules are left out on purpose: issue 9 asks for WCAG 2.1 AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


def chromium_path() -> str | None:
    """Debian's Chromium ($CHROMIUM overrides), None when it is not installed."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def screenshot_dir() -> Path:
    """Where screenshots go: ``$RESULTS_DIR/screenshots`` under CI, else tests/.artifacts."""
    results = os.environ.get("RESULTS_DIR")
    base = Path(results) if results else Path(__file__).parent / ".artifacts"
    folder = base / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Watch:
    """What a page did that a test did not ask for."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  #: "status url" of 4xx/5xx answers

    def problems(self) -> list[str]:
        """Every console error (CSP refusals among them), script error and dialog."""
        return ([f"console: {m}" for m in self.console_errors]
                + [f"pageerror: {m}" for m in self.page_errors]
                + [f"dialog: {m}" for m in self.dialogs])


_WATCHES: dict[int, Watch] = {}


def page_problems(page: Any) -> list[str]:
    """The console errors, page errors and dialogs of ``page`` so far."""
    return _WATCHES[id(page)].problems()


def page_requests(page: Any) -> list[str]:
    """Every URL ``page`` requested so far."""
    return list(_WATCHES[id(page)].requests)


def failed_responses(page: Any) -> list[str]:
    """``"status url"`` of every answer to ``page`` with a 4xx or 5xx status so far."""
    return list(_WATCHES[id(page)].failed)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (skipped, or failed under CI, without it).

    Module scope: each module names its own copy of this fixture, and Playwright's
    sync API refuses a second instance while another module's is still running.
    """
    path = chromium_path()
    if path is None:
        if os.environ.get("KALENDER_BROWSER_REQUIRED"):
            pytest.fail("Chromium tidak ditemukan (/usr/bin/chromium): .ci/run memasangnya")
        pytest.skip("Chromium tidak terpasang (apt-get install chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _watch(page: Any) -> Watch:
    """Record what ``page`` reports from now on."""
    watch = _WATCHES[id(page)] = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", lambda m: watch.console_errors.append(
        f"{m.text} ({m.location.get('url', '')})") if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    page.on("dialog", on_dialog)
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("response", lambda r: watch.failed.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    return watch


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(url, size="phone")``: a fresh page that has loaded ``url``."""
    contexts: list[Any] = []

    def opener(url: str | None = None, size: str | tuple[int, int] = "phone",
               **context_options: Any) -> Any:
        width, height = SIZES[size] if isinstance(size, str) else size
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="id-ID", timezone_id="Asia/Jakarta",
                                      **context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        _watch(page)
        if url is not None:
            response = page.goto(url, wait_until="load")
            assert response is not None and response.status == 200, (
                url, response and response.status)
        return page

    try:
        yield opener
    finally:
        for context in contexts:
            for page in context.pages:
                _WATCHES.pop(id(page), None)
            context.close()


def _axe_source() -> str:
    """axe-core as shipped inside the axe-playwright-python package."""
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious/critical WCAG 2.1 A/AA violations: rule, impact, help, elements."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", AXE_TAGS)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "elements": [(" ".join(n["target"]) if isinstance(n["target"], list)
                           else str(n["target"]), n["html"][:160],
                           n.get("failureSummary", "")) for n in v["nodes"]]}
            for v in result["violations"] if v["impact"] in BLOCKING]


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``<name>.png`` in :func:`screenshot_dir`."""
    path = screenshot_dir() / (re.sub(r"[^a-z0-9._-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_no_horizontal_scroll(page: Any) -> None:
    """The document is no wider than the viewport (names the elements that stick out)."""
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if sizes[0] <= sizes[1]:
        return
    wide = page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > limit + 0.5)
        .slice(0, 8)
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
             + ' right=' + Math.round(e.getBoundingClientRect().right))""", sizes[1])
    raise AssertionError(f"halaman {page.url} lebih lebar ({sizes[0]} px) dari layar "
                         f"({sizes[1]} px): {wide}")
