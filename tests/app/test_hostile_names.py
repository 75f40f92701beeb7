"""What users and their files name things is shown as text in every view, never run as markup.

A video whose file name is an HTML tag with a script in it, a rejected upload named the same way
and a person named the same way go through every tab and filter of the app: no script may run,
no injected element may appear (in shadow roots either), and each name reads as it was typed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from heimdex_lab import Library
from tests.app.browser import DEEP_TEXT, SAMPLES, csp_violations, shot, tab, upload
from tests.server import Server

VIDEO = "<img src=x onerror=alert(1)>.mp4"
JUNK = "<img src=x onerror=alert(2)>.mp4"  # not a video: refused, its name in the error
PERSON = "<img src=x onerror=alert(3)> & <b>O'Hara</b>"
QUERY = "<img src=x onerror=alert(4)> orbit"

# Playwright's CSS engine looks inside open shadow roots, where Bokeh widgets render.
INJECTED = "img[src='x'], [onerror], [onload], b:text-is(\"O'Hara\")"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """space_talk.mp4 ingested under a hostile name before the app opens (its face unnamed)."""
    folder = tmp_path_factory.mktemp("hostile")
    video = folder / "upload" / VIDEO
    video.parent.mkdir()
    shutil.copy(SAMPLES / "space_talk.mp4", video)
    lib = Library.open(folder / "library", user="alice")  # the user the server runs as
    assert [r.state for r in lib.ingest([video], progress=False)] == ["ready"]
    lib.close()
    return folder / "library"


def _nothing_injected(page: object, where: str) -> None:
    assert page.dialogs == [], f"{where}: a script ran"  # type: ignore[attr-defined]
    injected = page.locator(INJECTED)  # type: ignore[attr-defined]
    assert injected.count() == 0, f"{where}: {injected.first.evaluate('e => e.outerHTML')}"


def _filter(page: object, label: str) -> object:
    """The MultiChoice filter called ``label`` (Choices.js inside a Bokeh widget)."""
    return page.locator(".bk-input-group", has=page.locator(f"label:text-is('{label}')"))  # type: ignore[attr-defined]


def _choose(page: object, label: str, option: str) -> None:
    """Open the filter called ``label``, check how its first option reads, pick it."""
    widget = _filter(page, label)
    widget.locator(".choices").click()  # type: ignore[attr-defined]
    choice = widget.locator(".choices__list--dropdown .choices__item--choice").first  # type: ignore[attr-defined]
    choice.wait_for()
    assert choice.evaluate(DEEP_TEXT).strip() == option
    _nothing_injected(page, f"{label} filter open")
    choice.click()
    picked = widget.locator(".choices__list--multiple .choices__item").first  # type: ignore[attr-defined]
    picked.wait_for()
    assert option in picked.evaluate(DEEP_TEXT)


def test_hostile_names_are_shown_as_text_in_every_view(page: object, tmp_path: Path) -> None:
    # Choices.js builds its (closed) option list as the page renders: the first place it broke.
    _filter(page, "Videos").locator(".choices__item--choice").first.wait_for(state="attached")  # type: ignore[attr-defined]
    _nothing_injected(page, "page load")

    junk = tmp_path / JUNK
    junk.write_text("this is not a video")
    upload(page, junk)
    refused = page.locator(".heimdex-uploads .tabulator-cell", has_text=JUNK)  # type: ignore[attr-defined]
    refused.filter(has_text=f"{JUNK}: not a video file").wait_for(timeout=60_000)
    assert page.locator(".heimdex-uploads .tabulator-cell", has_text=JUNK).count() == 2  # type: ignore[attr-defined]
    _nothing_injected(page, "Upload tab")
    shot(page, "hostile-upload")

    tab(page, "Library")
    page.locator(".heimdex-videos .tabulator-cell").filter(has_text=VIDEO).wait_for()  # type: ignore[attr-defined]
    _nothing_injected(page, "Library tab")

    tab(page, "People")
    who = page.locator("input[placeholder='Name this face']").first  # type: ignore[attr-defined]
    who.fill(PERSON)
    who.press("Enter")
    page.get_by_role("button", name="Name", exact=True).click()  # type: ignore[attr-defined]
    person = page.locator(".heimdex-people .tabulator-cell").filter(has_text=PERSON)  # type: ignore[attr-defined]
    person.wait_for()
    assert person.first.evaluate(DEEP_TEXT).strip() == PERSON
    _nothing_injected(page, "People tab")
    shot(page, "hostile-people")

    tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill(QUERY)
    box.press("Enter")
    _choose(page, "Videos", VIDEO)
    _choose(page, "People", PERSON)
    # Each filter redoes the search; the last one leaves the one scene she is in, a weak match
    # for words that are not said: "no good match", quoting the query as typed, then the card.
    message = page.locator(".heimdex-no-good-match")  # type: ignore[attr-defined]
    weaker = page.locator(".heimdex-show-weak button", has_text="Show 1 weaker result(s)")  # type: ignore[attr-defined]
    weaker.wait_for(timeout=120_000)
    assert f"No good match for “{QUERY}”" in message.evaluate(DEEP_TEXT)
    _nothing_injected(page, "no good match")
    weaker.click()
    cards = page.locator(".heimdex-result")  # type: ignore[attr-defined]
    expect(cards.filter(has_text=f"People: {PERSON}")).to_have_count(1, timeout=120_000)
    expect(cards).to_have_count(1, timeout=120_000)
    card = cards.first
    assert card.evaluate(DEEP_TEXT).startswith(f"{VIDEO} · 5.0-9.8 s")
    # Before the player starts: Chromium may abort a media request it no longer needs.
    assert page.failed_requests == [], "nothing fails to load (an injected img would)"  # type: ignore[attr-defined]
    card.locator("button").click()
    now_playing = page.locator(".heimdex-now-playing")  # type: ignore[attr-defined]
    now_playing.wait_for()
    assert VIDEO in now_playing.evaluate(DEEP_TEXT)
    _nothing_injected(page, "Search tab")
    shot(page, "hostile-search")
    assert csp_violations(page) == [], "nothing injected was stopped by the policy either"


def test_the_page_refuses_inline_event_handlers(page: object, server: Server) -> None:
    """Defence in depth: were a view ever to let markup through, its onerror= would not run."""
    policy = page.request.get(server.url + "/").headers["content-security-policy"]  # type: ignore[attr-defined]
    for directive in ("script-src-attr 'none'", "object-src 'none'", "base-uri 'self'",
                      "frame-ancestors 'self'"):  # fmt: skip
        assert directive in policy.split("; "), policy
    refused = page.evaluate(  # type: ignore[attr-defined]
        """() => new Promise(ok => {
          document.addEventListener('securitypolicyviolation', e => ok(e.effectiveDirective));
          const box = document.createElement('div');
          box.innerHTML = '<img src=x onerror=alert(5)>';
          document.body.append(box);
        })"""
    )
    assert refused == "script-src-attr"
    assert page.dialogs == []  # type: ignore[attr-defined]
