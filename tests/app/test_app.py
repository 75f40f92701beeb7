"""The web app in a real browser (Debian's Chromium driven by Playwright) on 127.0.0.1.

Screenshots of each tab go to tests/app/artifacts/ (ignored by git) for a human to look at.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import Server

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app") / "library"


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[Server]:
    srv = Server(library, "alice")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: object, server: Server) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    # A first search loads the text model in the server: allow for a busy 2-core machine.
    page.set_default_timeout(120_000)
    page.failed_requests = []  # type: ignore[attr-defined]
    page.on("requestfailed", lambda r: page.failed_requests.append(r.url))  # type: ignore[attr-defined]
    # Answers >= 400 to what the page loads itself (the API's refusals are expected answers).
    context.on(  # type: ignore[attr-defined]
        "response",
        lambda r: (
            r.status >= 400
            and "/api/" not in r.url
            and page.failed_requests.append(f"{r.status} {r.url}")
        ),  # type: ignore[attr-defined]
    )
    page.goto(server.url + "/", wait_until="networkidle")
    yield page
    context.close()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


DEEP_TEXT = """el => {
  const walk = n => (n.shadowRoot ? walk(n.shadowRoot) : '') +
    Array.from(n.childNodes).map(c => c.nodeType === 3 ? c.textContent : walk(c)).join('');
  return walk(el);
}"""


def _tab(page: object, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()  # type: ignore[attr-defined]


def _upload(page: object, *files: Path) -> None:
    _tab(page, "Upload")
    page.locator("input[type=file]").first.set_input_files([str(f) for f in files])  # type: ignore[attr-defined]


def test_upload_search_and_play_from_the_scene_start(page: object, tmp_path: Path) -> None:
    bad = tmp_path / "holiday.mp4"
    bad.write_text("this is not a video")
    _upload(page, SAMPLES / "space_talk.mp4", bad)
    uploads = page.locator(".heimdex-uploads").filter(has_text="space_talk.mp4")  # type: ignore[attr-defined]
    uploads.filter(has_text="ready").wait_for(timeout=180_000)
    rejected = page.locator(".heimdex-uploads").filter(has_text="holiday.mp4")  # type: ignore[attr-defined]
    rejected.filter(has_text="holiday.mp4: not a video file").wait_for(timeout=60_000)
    _shot(page, "upload")

    _tab(page, "Library")
    videos = page.locator(".heimdex-videos")  # type: ignore[attr-defined]
    videos.filter(has_text="space_talk.mp4").wait_for()
    _shot(page, "library")

    _tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill("she described going into orbit for the first time")
    box.press("Enter")
    first = page.locator(".heimdex-result").first  # type: ignore[attr-defined]
    first.wait_for()
    assert "space_talk.mp4 · 5.0-9.8 s" in first.evaluate(DEEP_TEXT)
    first.locator("button").click()
    player = page.locator("#heimdex-player")  # type: ignore[attr-defined]
    player.wait_for()
    player.evaluate(
        "v => new Promise(ok => v.readyState >= 1 ? ok()"
        " : v.addEventListener('loadedmetadata', ok))"
    )
    current = player.evaluate("v => v.currentTime")
    assert abs(current - 5.04) < 0.3, current
    _shot(page, "search")

    _tab(page, "People")
    page.get_by_text("Unnamed faces").wait_for()  # type: ignore[attr-defined]
    _shot(page, "people")
    assert page.failed_requests == [], "nothing is requested off-machine or fails"  # type: ignore[attr-defined]


def test_another_user_sees_nothing_and_cannot_fetch_media(
    server: Server, library: Path, browser: object
) -> None:
    from heimdex_lab import Library

    videos = Library.open(library, user="alice").videos()
    ready = videos.filter(videos["state"] == "ready")["video_id"].to_list()
    assert ready, "the first test uploaded a video"
    with urllib.request.urlopen(f"{server.url}/media/{ready[0]}") as response:
        assert response.status == 200
    bob = Server(library, "bob")
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{bob.url}/media/{ready[0]}")
        assert info.value.code == 404
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(bob.url + "/", wait_until="networkidle")
        _tab(page, "Library")
        page.get_by_text("The library is empty").wait_for()
        context.close()
    finally:
        bob.stop()


def test_sign_in_keeps_each_user_to_their_own_library(
    library: Path, browser: object, tmp_path: Path
) -> None:
    from heimdex_lab import Library

    accounts = tmp_path / "accounts"
    shutil.copytree(library, accounts)  # alice's library from the first test
    for name in ("alice", "bob"):
        done = subprocess.run(
            [sys.executable, "-m", "heimdex_lab.cli", "--library", str(accounts), "users", "add",
             name], input=f"{name}-secret-pw\n", capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    videos = Library.open(accounts, user="alice").videos()
    video_id = videos.filter(videos["state"] == "ready")["video_id"][0]
    srv = Server(accounts, "local", auth=True)
    try:
        with urllib.request.urlopen(srv.url + "/") as response:  # follows the redirect
            assert response.url.startswith(srv.url + "/login")
        for name, sees in (("alice", True), ("bob", False)):
            context = browser.new_context()  # type: ignore[attr-defined]
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(srv.url + "/")
            page.fill("#username", name)
            page.fill("#password", "wrong password")
            page.click("#login")
            page.get_by_text("Invalid username or password").wait_for()
            page.fill("#username", name)
            page.fill("#password", f"{name}-secret-pw")
            page.click("#login")
            _tab(page, "Library")
            if sees:
                page.locator(".heimdex-videos").filter(has_text="space_talk.mp4").wait_for()
                _shot(page, "library-signed-in")
            else:
                page.get_by_text("The library is empty").wait_for()
            media = page.request.get(f"{srv.url}/media/{video_id}")
            assert media.status == (200 if sees else 404)
            context.close()
    finally:
        srv.stop()
