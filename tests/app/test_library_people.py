"""The Library grid, the People cards and the results export, in a real browser.

Two sample videos are ingested before the server starts; Eileen Collins is enrolled from a
photo, Grace Hopper's face (in kitchen_cat.mkv) is left unnamed. The tests run in file order:
the last ones change the library (retry, delete).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import matplotlib.cbook
import polars as pl
import pytest
import skimage.data
from PIL import Image
from playwright.sync_api import expect

from heimdex_lab import Library
from tests.app.browser import DEEP_TEXT, SAMPLES, csp_violations, shot, tab
from tests.server import Server

EILEEN, GRACE = "Eileen Collins", "Grace Hopper"
FILES = ["space_talk.mp4", "kitchen_cat.mkv"]  # in ingest (date) order


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    paths = {EILEEN: folder / "astronaut.jpg", GRACE: folder / "grace.jpg"}
    Image.fromarray(skimage.data.astronaut()).save(paths[EILEEN])
    grace = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    grace.convert("RGB").save(paths[GRACE])
    return paths


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path]) -> Path:
    folder = tmp_path_factory.mktemp("grid") / "library"
    lib = Library.open(folder, user="alice")  # the user the server runs as
    results = lib.ingest([SAMPLES / name for name in FILES], progress=False)
    assert [r.state for r in results] == ["ready", "ready"]
    lib.add_person(EILEEN, [photos[EILEEN]])
    lib.close()
    return folder


def _cards(page: object) -> object:
    tab(page, "Library")
    cards = page.locator(".heimdex-video-card")  # type: ignore[attr-defined]
    expect(cards).to_have_count(len(FILES))
    return cards


def _names(cards: object) -> list[str]:
    return [n.strip() for n in cards.locator(".hx-name").all_inner_texts()]  # type: ignore[attr-defined]


def _person(page: object, name: str) -> object:
    """The card of the person called exactly ``name``."""
    return page.locator(".heimdex-person").filter(  # type: ignore[attr-defined]
        has=page.locator(f".hx-name:text-is('{name}')")  # type: ignore[attr-defined]
    )


def _loaded(img: object) -> int:
    """The picture's width once the browser has it (0: it did not load)."""
    return int(
        img.evaluate(  # type: ignore[attr-defined]
            "i => new Promise(ok => i.complete ? ok(i.naturalWidth)"
            " : i.addEventListener('load', () => ok(i.naturalWidth)))"
        )
    )


def test_the_library_grid_shows_each_video_with_its_keyframe_and_state(
    page: object, library: Path
) -> None:
    cards = _cards(page)
    videos = Library.open(library, user="alice").videos().frame
    for name in FILES:
        card = cards.filter(has_text=name)  # type: ignore[attr-defined]
        text = card.evaluate(DEEP_TEXT)
        assert "ready" in text and "3 scenes" in text and "0:1" in text and "en" in text, text
        assert _loaded(card.locator(".hx-cover img")) > 0
        video_id = videos.filter(videos["filename"] == name)["video_id"][0]
        # The card's picture and name link to its video page (a new tab opens it by URL).
        for link in (".hx-name", ".hx-cover"):
            assert card.locator(link).get_attribute("href") == f"./?video={video_id}"
        assert card.locator("button", has_text="Retry").count() == 0  # ready: nothing to retry
    shot(page, "library-grid")
    # A plain click opens the video page in this app, without loading the page again.
    cards.filter(has_text="kitchen_cat.mkv").locator(".hx-name").click()  # type: ignore[attr-defined]
    expect(page.locator(".hx-vp-title")).to_contain_text("kitchen_cat.mkv")  # type: ignore[attr-defined]
    assert "video=" not in page.url  # type: ignore[attr-defined]
    assert page.failed_requests == []  # type: ignore[attr-defined]
    assert csp_violations(page) == []


def test_the_grid_sorts_by_name_date_and_duration(page: object) -> None:
    cards = _cards(page)
    assert _names(cards) == FILES  # date added, oldest first
    sort = page.locator(".bk-input-group", has=page.locator("label:text-is('Sort by')"))  # type: ignore[attr-defined]
    sort.locator("select").select_option(label="Name")
    expect(cards.locator(".hx-name")).to_have_text(sorted(FILES))  # type: ignore[attr-defined]
    sort.locator("select").select_option(label="Duration")  # longest first: 15.0 s, 14.1 s
    expect(cards.locator(".hx-name")).to_have_text(FILES)  # type: ignore[attr-defined]
    # The table is still there, one click away.
    page.get_by_role("button", name="Table", exact=True).click()  # type: ignore[attr-defined]
    expect(page.locator(".heimdex-videos .tabulator-row")).to_have_count(len(FILES))  # type: ignore[attr-defined]
    expect(cards.first).to_be_hidden()  # type: ignore[attr-defined]


def test_people_show_faces_and_can_be_named_merged_and_removed(
    page: object, library: Path, photos: dict[str, Path]
) -> None:
    tab(page, "People")
    people = page.locator(".heimdex-person")  # type: ignore[attr-defined]
    expect(people).to_have_count(1)
    assert people.first.locator(".hx-name").inner_text().strip() == EILEEN
    assert _loaded(people.first.locator("img")) > 0
    group = page.locator(".heimdex-face-group")  # type: ignore[attr-defined]
    expect(group).to_have_count(1)
    assert _loaded(group.first.locator("img")) > 0
    shot(page, "people-faces")

    # Name the unknown face "Grace"; enrol a photo of her as "Grace Hopper" elsewhere (the
    # page follows the library), then merge the two from their cards.
    group.first.locator("input").fill("Grace")
    group.first.get_by_role("button", name="Name", exact=True).click()
    expect(people).to_have_count(2)
    expect(group).to_have_count(0)
    lib = Library.open(library, user="alice")
    lib.add_person(GRACE, [photos[GRACE]])
    expect(people).to_have_count(3)
    for name in ("Grace", GRACE):
        _person(page, name).locator("input[type=checkbox]").check()
    into = page.locator(
        ".bk-input-group", has=page.locator("label:text-is('Merge the selected into')")
    )  # type: ignore[attr-defined]
    into.locator("select").select_option(GRACE)
    page.get_by_role("button", name="Merge selected").click()  # type: ignore[attr-defined]
    expect(people).to_have_count(2)
    frame = lib.people_frame()
    assert frame.select("name", "photos", "scenes").rows() == [(EILEEN, 1, 1), (GRACE, 2, 1)]
    grace = _person(page, GRACE)
    assert "2 photo(s) · in 1 scene(s)" in grace.evaluate(DEEP_TEXT)
    assert _loaded(grace.locator("img")) > 0
    shot(page, "people-merged")

    _person(page, EILEEN).locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Remove selected").click()  # type: ignore[attr-defined]
    expect(people).to_have_count(1)
    assert lib.people_frame()["name"].to_list() == [GRACE]
    expect(page.locator(".heimdex-face-group")).to_have_count(1)  # her face is unnamed again  # type: ignore[attr-defined]
    lib.close()
    assert csp_violations(page) == []


def test_search_results_download_as_csv_and_parquet(page: object) -> None:
    tab(page, "Search")
    box = page.locator("input[placeholder^='e.g. the rocket']")  # type: ignore[attr-defined]
    box.fill("the orange cat sleeps on the window sill")
    box.press("Enter")
    cards = page.locator(".heimdex-result")  # type: ignore[attr-defined]
    cards.first.wait_for()

    def download(label: str, suffix: str) -> pl.DataFrame:
        with page.expect_download() as info:  # type: ignore[attr-defined]
            page.get_by_role("button", name=f"⬇ {label}").click()  # type: ignore[attr-defined]
        download = info.value
        assert download.suggested_filename == (
            f"heimdex-the-orange-cat-sleeps-on-the-window-sill.{suffix}"
        )
        data = Path(download.path()).read_bytes()
        return (
            pl.read_csv(io.BytesIO(data)) if suffix == "csv" else pl.read_parquet(io.BytesIO(data))
        )

    # The results as the page shows them: the weak ones are hidden, in the files too.
    csv, parquet = download("CSV", "csv"), download("Parquet", "parquet")
    assert 1 <= csv.height == parquet.height == cards.count() < 6
    assert set(csv["confidence"]) <= {"high", "medium"}
    assert csv["scene_id"].to_list() == parquet["scene_id"].to_list()
    top = parquet.row(0, named=True)
    assert (top["filename"], top["start"]) == ("kitchen_cat.mkv", pytest.approx(4.4, abs=0.3))
    assert "cat" in top["text"] and top["keyframe"].startswith("/api/v1/scenes/")
    assert {"score", "score_text", "score_keyword", "confidence"} <= set(csv.columns)
    # Weak ones shown: every scene of the library, best first.
    page.locator(".heimdex-show-weak button", has_text="Show weaker matches too").click()  # type: ignore[attr-defined]
    expect(cards).to_have_count(6)
    every = download("CSV", "csv")
    assert every.height == 6 and every["scene_id"][0] == top["scene_id"]
    assert "low" in set(every["confidence"])


def test_retry_and_delete_from_a_card(page: object, library: Path) -> None:
    lib = Library.open(library, user="alice")
    videos = lib.videos().frame
    cat = videos.filter(videos["filename"] == "kitchen_cat.mkv")["video_id"][0]
    lib.catalog.set_failed(cat, "faces", "the faces stage crashed")  # as a crash leaves it
    cards = _cards(page)
    card = cards.filter(has_text="kitchen_cat.mkv")  # type: ignore[attr-defined]
    card.locator(".hx-state", has_text="failed").wait_for()
    assert "the faces stage crashed" in card.evaluate(DEEP_TEXT)
    shot(page, "library-failed")
    card.get_by_role("button", name="Retry").click()
    card.locator(".hx-state", has_text="ready").wait_for(timeout=180_000)
    assert lib.video(cat).state == "ready"

    delete = card.get_by_role("button", name="Delete")
    delete.click()  # the first click asks
    card.get_by_role("button", name="Really delete?").click()
    expect(cards).to_have_count(1)
    assert lib.videos().frame["filename"].to_list() == ["space_talk.mp4"]
    assert not (library / "keyframes" / cat).exists()
    lib.close()
    assert csp_violations(page) == []


def test_the_server_warms_search_up_at_start(library: Path) -> None:
    """`heimdex serve` runs a search in the background as it starts, before anyone asks."""
    srv = Server(library, "alice", verbose=True, log_name="serve-warm.log")
    try:
        log = srv.log.read_text
        deadline = time.monotonic() + 180
        while "search warm-up done" not in log() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "search warm-up done" in log(), log()[-2000:]
        assert "warm-up for alice failed" not in log()
    finally:
        srv.stop()
