"""Results people can trust and follow, in a real browser: confidence badges, "no good match"
with a way to the weaker results, search grouped by video, and the video page (player,
transcript that seeks and follows playback, keyframe strip, marks where the query matched).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from heimdex_lab import Library
from tests.app.browser import DEEP_TEXT, SAMPLES, csp_violations, shot, tab
from tests.server import Server

ORBIT = "she described going into orbit for the first time"  # space_talk.mp4, 5.04-9.84 s
SENTENCES = [
    "The rocket launch was delayed because the budget ran out.",  # 0.11 s
    "The astronaut described her first flight into orbit.",  # 5.77 s
    "Telescope showed galaxies that are billions of years old.",  # 10.57 s
]
HIGH_GREEN = "rgb(26, 127, 55)"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """space_talk.mp4 and kitchen_cat.mkv ingested; the astronaut's face named."""
    folder = tmp_path_factory.mktemp("video_page") / "library"
    lib = Library.open(folder, user="alice")  # the user the server runs as
    names = ("space_talk.mp4", "kitchen_cat.mkv")
    results = lib.ingest([SAMPLES / n for n in names], progress=False)
    assert [r.state for r in results] == ["ready", "ready"]
    talk = results[0].video_id
    group = next(g for g in lib.people.groups() if f"{talk}:1" in g.scene_ids)
    lib.people.name_group(group.group_id, "Eileen Collins")
    lib.close()
    return folder


@pytest.fixture(scope="module")
def ids(library: Path) -> dict[str, str]:
    videos = Library.open(library, user="alice").videos().frame
    return dict(zip(videos["filename"], videos["video_id"], strict=True))


def _search(page: object, query: str) -> None:
    tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill(query)
    box.press("Enter")


def _video(page: object) -> object:
    """The video page's player, once it knows the video's length."""
    video = page.locator("#heimdex-video-page video")  # type: ignore[attr-defined]
    video.wait_for()
    video.evaluate(
        "v => new Promise(ok => v.readyState >= 1 ? ok()"
        " : v.addEventListener('loadedmetadata', ok))"
    )
    return video


def _current_sentence(page: object) -> str:
    current = page.locator(".hx-sentence.hx-current")  # type: ignore[attr-defined]
    expect(current).to_have_count(1)
    assert current.get_attribute("aria-current") == "true"
    return str(current.evaluate(DEEP_TEXT))


def test_a_nonsense_query_says_no_good_match_and_offers_the_weaker_results(page: object) -> None:
    _search(page, "penguins on an iceberg")
    message = page.locator(".heimdex-no-good-match")  # type: ignore[attr-defined]
    message.wait_for()
    assert "No good match for “penguins on an iceberg”" in message.evaluate(DEEP_TEXT)
    assert page.locator(".heimdex-result").count() == 0  # type: ignore[attr-defined]
    shot(page, "no-good-match")
    page.locator(".heimdex-show-weak button", has_text="weaker result").click()  # type: ignore[attr-defined]
    cards = page.locator(".heimdex-result")  # type: ignore[attr-defined]
    expect(cards).to_have_count(6)  # every scene of both videos, each a weak match
    badges = page.locator(".heimdex-result .hx-confidence").all_inner_texts()  # type: ignore[attr-defined]
    assert badges == ["low"] * 6
    assert message.count() == 0
    shot(page, "weak-results-shown")
    # A new search hides the weak ones again: only the sure match is left.
    _search(page, ORBIT)
    expect(cards).to_have_count(1)
    assert cards.first.locator(".hx-confidence").inner_text() == "high"
    assert "space_talk.mp4 · 5.0-9.8 s" in cards.first.evaluate(DEEP_TEXT)
    assert csp_violations(page) == []


def test_a_result_opens_the_video_page_where_the_transcript_seeks_and_follows(
    page: object,
) -> None:
    _search(page, ORBIT)
    card = page.locator(".heimdex-result").first  # type: ignore[attr-defined]
    expect(card).to_contain_text("space_talk.mp4 · 5.0-9.8 s")
    card.locator(".hx-open").click()
    video = _video(page)
    assert abs(float(video.evaluate("v => v.currentTime")) - 5.04) < 0.3  # the scene's start
    lines = page.locator(".hx-sentence")  # type: ignore[attr-defined]
    assert lines.locator(".hx-said").all_inner_texts() == SENTENCES
    assert SENTENCES[0] in _current_sentence(page)  # 5.04 s: the second one starts at 5.77 s
    assert "People: Eileen Collins" in page.locator(".hx-vp-scene").evaluate(DEEP_TEXT)  # type: ignore[attr-defined]

    # The query's matching scene is marked along the seek bar, in the colour of its confidence.
    mark = page.locator(".hx-vp-marks .hx-mark")  # type: ignore[attr-defined]
    expect(mark).to_have_count(1)
    assert mark.get_attribute("data-confidence") == "high"
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") == HIGH_GREEN
    bar, box = page.locator(".hx-vp-marks").bounding_box(), mark.bounding_box()  # type: ignore[attr-defined]
    assert abs((box["x"] - bar["x"]) / bar["width"] - 5.04 / 15.0) < 0.02
    assert abs(box["width"] / bar["width"] - 4.8 / 15.0) < 0.02

    # Clicking a sentence seeks to it, and it is the one highlighted.
    lines.nth(2).click()
    expect(page.locator(".hx-sentence.hx-current")).to_contain_text(SENTENCES[2])  # type: ignore[attr-defined]
    assert abs(float(video.evaluate("v => v.currentTime")) - 10.57) < 0.3
    assert page.locator(".hx-key.hx-current").inner_text() == "0:09-0:15"  # type: ignore[attr-defined]

    # Playing: the highlight follows the sentence being said.
    video.evaluate("v => { v.currentTime = 4.6; return v.play(); }")
    expect(page.locator(".hx-sentence.hx-current")).to_contain_text(SENTENCES[1])  # type: ignore[attr-defined]
    assert float(video.evaluate("v => v.currentTime")) >= 5.7
    video.evaluate("v => v.pause()")
    shot(page, "video-page")

    # A keyframe of the strip seeks to its scene.
    keys = page.locator(".hx-vp-strip .hx-key")  # type: ignore[attr-defined]
    expect(keys).to_have_count(3)
    keys.nth(1).click()
    expect(page.locator(".hx-key.hx-current")).to_have_text("0:05-0:09")  # type: ignore[attr-defined]
    assert abs(float(video.evaluate("v => v.currentTime")) - 5.04) < 0.3
    expect(page.locator(".hx-vp-scene")).to_contain_text("People: Eileen Collins")  # type: ignore[attr-defined]
    keys.nth(0).click()
    expect(page.locator(".hx-key.hx-current")).to_have_text("0:00-0:05")  # type: ignore[attr-defined]
    assert float(video.evaluate("v => v.currentTime")) < 0.1
    # Before the first word (0.11 s) no sentence is being said.
    expect(page.locator(".hx-sentence.hx-current")).to_have_count(0)  # type: ignore[attr-defined]
    assert page.failed_requests == []  # type: ignore[attr-defined]
    assert csp_violations(page) == []


def test_the_video_page_opens_from_its_url(
    page: object, server: Server, ids: dict[str, str]
) -> None:
    talk = ids["space_talk.mp4"]
    page.goto(f"{server.url}/?video={talk}&t=10&q=budget", wait_until="networkidle")  # type: ignore[attr-defined]
    video = _video(page)
    assert abs(float(video.evaluate("v => v.currentTime")) - 10.0) < 0.3
    assert SENTENCES[1] in _current_sentence(page)  # the third starts at 10.57 s
    marks = page.locator(".hx-vp-marks .hx-mark")  # type: ignore[attr-defined]
    expect(marks).to_have_count(1)  # "budget" is said in the first scene only
    assert marks.get_attribute("data-start") == "0"
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    assert box.input_value() == "budget"  # the search it came from is there too
    page.goto(f"{server.url}/?video=nope", wait_until="networkidle")  # type: ignore[attr-defined]
    page.get_by_text("no video with id 'nope'").wait_for()  # type: ignore[attr-defined]


def test_search_grouped_by_video_one_row_per_video(page: object, ids: dict[str, str]) -> None:
    _search(page, "the rocket launch and the orange cat")
    # A query about both videos matches each only partly: the weak matches are asked for
    # ("Show N weaker result(s)" under "no good match", else "Show weaker matches too").
    page.locator(".heimdex-show-weak button", has_text="Show").click()  # type: ignore[attr-defined]
    page.locator(".heimdex-result").first.wait_for()  # type: ignore[attr-defined]
    page.locator(".heimdex-group button", has_text="By video").click()  # type: ignore[attr-defined]
    groups = page.locator(".heimdex-video-group")  # type: ignore[attr-defined]
    expect(groups).to_have_count(2)
    heads = [g.locator(".heimdex-group-head").evaluate(DEEP_TEXT) for g in groups.all()]
    assert sorted(h.split(" · ")[0] for h in heads) == ["kitchen_cat.mkv", "space_talk.mp4"]
    for group in groups.all():  # each row holds its own video's scenes only
        name = group.locator(".heimdex-group-head").evaluate(DEEP_TEXT).split(" · ")[0]
        cards = group.locator(".heimdex-result").all()
        files = [c.evaluate(DEEP_TEXT).split(" · ")[0] for c in cards]
        assert files and set(files) == {name}
    expect(page.get_by_text("2 video(s) · page 1 of 1")).to_be_visible()  # type: ignore[attr-defined]
    shot(page, "search-by-video")
    cat = groups.filter(has_text="kitchen_cat.mkv")
    cat.locator("button", has_text="Video page").click()
    _video(page)
    title = page.locator(".hx-vp-title").evaluate(DEEP_TEXT)  # type: ignore[attr-defined]
    assert title.startswith("kitchen_cat.mkv")
    assert csp_violations(page) == []
