"""Speech in more languages, in the app: the Library shows each video's language, and Search
keeps the videos spoken in the language picked."""

from __future__ import annotations

from pathlib import Path

import pytest

from heimdex_lab import Library
from tests.app.browser import DEEP_TEXT, SAMPLES, csp_violations, shot, tab


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mercado_es.mp4 (Spanish) and space_talk.mp4 (English), ingested with the default model."""
    folder = tmp_path_factory.mktemp("languages") / "library"
    lib = Library.open(folder, user="alice")  # the user the server runs as
    names = ("mercado_es.mp4", "space_talk.mp4")
    assert [r.state for r in lib.ingest([SAMPLES / n for n in names], progress=False)] == [
        "ready",
        "ready",
    ]
    lib.close()
    return folder


def test_the_library_shows_each_videos_language(page: object) -> None:
    tab(page, "Library")
    rows = page.locator(".heimdex-videos .tabulator-row")  # type: ignore[attr-defined]
    rows.first.wait_for()
    by_file = {}
    for n in range(rows.count()):
        cells = rows.nth(n).locator(".tabulator-cell").all_inner_texts()
        by_file[next(c for c in cells if c.endswith((".mp4", ".mkv")))] = cells
    assert "es" in by_file["mercado_es.mp4"] and "en" in by_file["space_talk.mp4"]


def test_search_in_a_language_keeps_its_videos(page: object) -> None:
    tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill("caballos")
    box.press("Enter")
    first = page.locator(".heimdex-result").first  # type: ignore[attr-defined]
    first.wait_for()
    assert "mercado_es.mp4 · 10.8-15.7 s" in first.evaluate(DEEP_TEXT)
    assert "**" not in first.evaluate(DEEP_TEXT)  # the word is marked, not starred
    assert first.locator("mark").all_inner_texts() == ["caballos"]  # type: ignore[attr-defined]

    language = page.locator(  # type: ignore[attr-defined]
        ".bk-input-group",
        has=page.locator("label:text-is('Language')"),  # type: ignore[attr-defined]
    ).locator("select")
    language.select_option("en")
    page.locator(".heimdex-result", has_text="mercado_es.mp4").first.wait_for(state="detached")  # type: ignore[attr-defined]
    # No English video says it: no good match, and the weak ones are English videos only.
    page.locator(".heimdex-no-good-match").wait_for()  # type: ignore[attr-defined]
    page.locator(".heimdex-show-weak button", has_text="weaker result").click()  # type: ignore[attr-defined]
    cards = page.locator(".heimdex-result")  # type: ignore[attr-defined]
    cards.first.wait_for()
    texts = [cards.nth(n).evaluate(DEEP_TEXT) for n in range(cards.count())]
    assert texts and all("space_talk.mp4" in t for t in texts), texts
    shot(page, "search-language-en")
    assert csp_violations(page) == []
