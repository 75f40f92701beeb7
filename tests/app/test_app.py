"""The web app in a real browser (Debian's Chromium driven by Playwright) on 127.0.0.1.

Screenshots of each tab go to tests/app/artifacts/ (ignored by git) for a human to look at.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.app.browser import DEEP_TEXT, SAMPLES, csp_violations, shot, tab, upload
from tests.server import Server


def test_upload_search_and_play_from_the_scene_start(page: object, tmp_path: Path) -> None:
    bad = tmp_path / "holiday.mp4"
    bad.write_text("this is not a video")
    upload(page, SAMPLES / "space_talk.mp4", bad)
    uploads = page.locator(".heimdex-uploads").filter(has_text="space_talk.mp4")  # type: ignore[attr-defined]
    uploads.filter(has_text="ready").wait_for(timeout=180_000)
    rejected = page.locator(".heimdex-uploads").filter(has_text="holiday.mp4")  # type: ignore[attr-defined]
    rejected.filter(has_text="holiday.mp4: not a video file").wait_for(timeout=60_000)
    shot(page, "upload")

    tab(page, "Library")
    cards = page.locator(".heimdex-video-card")  # type: ignore[attr-defined]
    cards.filter(has_text="space_talk.mp4").wait_for()
    shot(page, "library")

    first = _search_orbit(page)
    first.locator("button").click()
    assert abs(_player_time(page) - 5.04) < 0.3
    shot(page, "search")

    tab(page, "People")
    page.get_by_text("Unnamed faces").wait_for()  # type: ignore[attr-defined]
    shot(page, "people")
    assert page.failed_requests == [], "nothing is requested off-machine or fails"  # type: ignore[attr-defined]
    assert csp_violations(page) == [], "the app needs nothing its own policy forbids"


def _search_orbit(page: object) -> object:
    """Search for the second scene of space_talk.mp4 (5.04-9.84 s); its card comes first."""
    tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill("she described going into orbit for the first time")
    box.press("Enter")
    first = page.locator(".heimdex-result").first  # type: ignore[attr-defined]
    first.wait_for()
    assert "space_talk.mp4 · 5.0-9.8 s" in first.evaluate(DEEP_TEXT)
    return first


def _player_time(page: object) -> float:
    """The player's position once it has loaded the video (it appears on a click or key)."""
    player = page.locator("#heimdex-player")  # type: ignore[attr-defined]
    player.wait_for()
    player.evaluate(
        "v => new Promise(ok => v.readyState >= 1 ? ok()"
        " : v.addEventListener('loadedmetadata', ok))"
    )
    return float(player.evaluate("v => v.currentTime"))


def test_clicking_a_result_thumbnail_plays_it_from_the_scene_start(page: object) -> None:
    first = _search_orbit(page)
    first.locator("img").click()
    assert abs(_player_time(page) - 5.04) < 0.5


def test_enter_on_a_focused_result_plays_it_from_the_scene_start(page: object) -> None:
    first = _search_orbit(page)
    assert (first.get_attribute("role"), first.get_attribute("tabindex")) == ("button", "0")
    first.focus()
    first.press("Enter")
    assert abs(_player_time(page) - 5.04) < 0.5


def test_a_new_search_updates_the_results_in_place(page: object) -> None:
    """The next query's cards appear in the same results component, not in a new one that
    replaces it (the page would jump and flicker), and they play their own scenes."""
    first = _search_orbit(page)
    first.evaluate("card => { card.parentElement.heimdexKept = true; card.dataset.old = ''; }")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill("the launch was postponed because they ran out of money")
    box.press("Enter")
    fresh = page.locator(".heimdex-result:not([data-old])").first  # type: ignore[attr-defined]
    fresh.wait_for()
    assert fresh.evaluate("card => card.parentElement.heimdexKept") is True
    assert "space_talk.mp4 · 0.0-5.0 s" in fresh.evaluate(DEEP_TEXT)
    assert page.locator(".heimdex-result[data-old]").count() == 0  # type: ignore[attr-defined]
    fresh.locator("button").click()
    assert _player_time(page) < 0.5, "the card plays the new result, not the old one's scene"


def test_another_user_sees_nothing_and_cannot_fetch_media(
    server: Server, library: Path, browser: object
) -> None:
    from heimdex_lab import Library

    videos = Library.open(library, user="alice").videos().frame
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
        tab(page, "Library")
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
    videos = Library.open(accounts, user="alice").videos().frame
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
            tab(page, "Library")
            if sees:
                page.locator(".heimdex-video-card", has_text="space_talk.mp4").wait_for()
                shot(page, "library-signed-in")
            else:
                page.get_by_text("The library is empty").wait_for()
            media = page.request.get(f"{srv.url}/media/{video_id}")
            assert media.status == (200 if sees else 404)
            context.close()
    finally:
        srv.stop()
