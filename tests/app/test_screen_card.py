"""A result found by its on-screen text: the API gives its lines and boxes, and the app's card
shows the words and where they are on the keyframe."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from heimdex_lab import Library
from tests.app.browser import DEEP_TEXT, SAMPLES, csp_violations, shot, tab
from tests.server import Server


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """quarterly_review.mp4 (two slides whose words are never said, then a clock) ingested."""
    folder = tmp_path_factory.mktemp("screen") / "library"
    lib = Library.open(folder, user="alice")  # the user the server runs as
    assert [r.state for r in lib.ingest([SAMPLES / "quarterly_review.mp4"], progress=False)] == [
        "ready"
    ]
    lib.close()
    return folder


def _search(page: object, query: str) -> object:
    tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill(query)
    box.press("Enter")
    first = page.locator(".heimdex-result").first  # type: ignore[attr-defined]
    first.wait_for()
    first.locator("img").evaluate(  # type: ignore[attr-defined]
        "i => new Promise(ok => i.complete ? ok() : i.addEventListener('load', ok))"
    )
    return first


def _relative(inner: dict[str, float], outer: dict[str, float]) -> dict[str, float]:
    return {
        "left": (inner["x"] - outer["x"]) / outer["width"],
        "right": (inner["x"] + inner["width"] - outer["x"]) / outer["width"],
        "top": (inner["y"] - outer["y"]) / outer["height"],
        "bottom": (inner["y"] + inner["height"] - outer["y"]) / outer["height"],
    }


def test_the_card_marks_the_on_screen_line_that_holds_the_query_words(page: object) -> None:
    first = _search(page, "Lisbon office")
    text = first.evaluate(DEEP_TEXT)  # type: ignore[attr-defined]
    assert "quarterly_review.mp4 · 5.2-9.4 s" in text
    assert "On screen:" in text and "Open the Lisbon office" in text
    marked = first.locator("mark").all_inner_texts()  # type: ignore[attr-defined]
    assert marked == ["Lisbon", "office"]
    # One box, around "Open the Lisbon office": the third line of the slide, at its left.
    (polygon,) = first.locator("svg.hx-boxes polygon").all()  # type: ignore[attr-defined]
    where = _relative(polygon.bounding_box(), first.locator("img").bounding_box())  # type: ignore[attr-defined]
    assert 0.0 <= where["left"] < 0.15 and 0.4 < where["right"] < 0.8, where
    assert 0.5 < where["top"] < where["bottom"] < 0.72, where
    shot(page, "screen-text-card")
    assert csp_violations(page) == []


def test_a_scene_found_by_meaning_alone_gets_no_box(page: object) -> None:
    first = _search(page, "how much profit the business keeps per sale")
    assert "quarterly_review.mp4 · 0.0-5.2 s" in first.evaluate(DEEP_TEXT)  # type: ignore[attr-defined]
    assert first.locator("svg.hx-boxes").count() == 0  # type: ignore[attr-defined]


def test_the_api_returns_screen_text_and_its_lines_with_boxes(server: Server) -> None:
    found = httpx.get(
        f"{server.url}/api/v1/search", params={"q": "operating margin", "mode": "screen"}
    ).json()
    top = found["results"][0]
    assert (top["filename"], top["start"]) == ("quarterly_review.mp4", 0.0)
    assert "Operating margin 22 percent" in top["screen_text"].split("\n")
    assert top["scores"]["screen"] is not None and top["scores"]["text"] is None
    scene = httpx.get(f"{server.url}/api/v1/scenes/{top['scene_id']}").json()
    (line,) = [ln for ln in scene["screen_lines"] if ln["text"] == "Operating margin 22 percent"][
        :1
    ]
    assert len(line["box"]) == 4 and line["confidence"] >= 0.8
    assert 0 <= line["keyframe"] < len(scene["keyframes"])


def test_the_video_page_shows_the_on_screen_text_of_the_scene_playing(
    page: object, server: Server, library: Path
) -> None:
    videos = Library.open(library, user="alice").videos().frame
    video_id = videos["video_id"][0]
    page.goto(f"{server.url}/?video={video_id}&t=6&q=Lisbon+office", wait_until="networkidle")  # type: ignore[attr-defined]
    scene = page.locator("#heimdex-video-page .hx-vp-scene")  # type: ignore[attr-defined]
    # Once the player has sought to 6 s: the second slide's lines.
    expect(scene.locator(".hx-vp-screen")).to_contain_text("Open the Lisbon office")
    mark = page.locator(".hx-vp-marks .hx-mark").first  # type: ignore[attr-defined]
    assert abs(float(mark.get_attribute("data-start")) - 5.2) < 0.05  # the slide with the words
    assert mark.get_attribute("data-confidence") == "high"
    shot(page, "video-page-screen-text")
