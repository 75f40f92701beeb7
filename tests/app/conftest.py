"""Browser fixtures: one Chromium per session; per test module a library and a `heimdex serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.browser import ARGS, CHROMIUM, CSP_VIOLATIONS
from tests.server import Server


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app") / "library"


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[Server]:
    srv = Server(library, "alice")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _failed(page: object, request: object) -> None:
    """A request that failed, unless it is the player's own: Chromium cancels a video's range
    request in flight when the player seeks (net::ERR_ABORTED), which is no fault."""
    media = request.resource_type == "media"  # type: ignore[attr-defined]
    if not (media and "ERR_ABORTED" in (request.failure or "")):  # type: ignore[attr-defined]
        page.failed_requests.append(request.url)  # type: ignore[attr-defined]


@pytest.fixture()
def page(browser: object, server: Server) -> Iterator[object]:
    """The app loaded; ``failed_requests`` and ``dialogs`` collect what must not happen."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    # A first search loads the text model in the server: allow for a busy 2-core machine.
    page.set_default_timeout(120_000)
    page.failed_requests = []  # type: ignore[attr-defined]
    page.on("requestfailed", lambda r: _failed(page, r))  # type: ignore[attr-defined]
    # Answers >= 400 to what the page loads itself (the API's refusals are expected answers).
    context.on(  # type: ignore[attr-defined]
        "response",
        lambda r: (
            r.status >= 400
            and "/api/" not in r.url
            and page.failed_requests.append(f"{r.status} {r.url}")
        ),  # type: ignore[attr-defined]
    )
    # alert(), confirm(), prompt(): the app never opens one, so each is injected script running.
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    # What the Content-Security-Policy refused: the app itself must need nothing it forbids.
    page.add_init_script(CSP_VIOLATIONS)  # type: ignore[attr-defined]
    page.goto(server.url + "/", wait_until="networkidle")
    yield page
    context.close()
