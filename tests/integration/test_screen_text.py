"""On-screen text: the ocr stage reads slides no soundtrack names, stores lines with their boxes,
keeps each scene's distinct lines, embeds them, and survives reindex."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from heimdex_lab import Library
from heimdex_lab.ingest.ocr import OcrEngine, read_screen_text, scene_screen_text
from heimdex_lab.store.vectors import SCENE_SCREEN
from heimdex_lab.types import IngestResult, Scene
from tests.data.slides import SLIDES, make_slides_video, slide_image
from tests.integration.test_ingest import text_model

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def slides_ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, IngestResult]:
    folder = tmp_path_factory.mktemp("slides")
    video = folder / "quarterly.mp4"
    make_slides_video(video)
    lib = Library.open(folder / "library")
    (result,) = lib.ingest([video], progress=False)
    return lib, result


def test_each_slide_scene_holds_the_text_shown_on_it(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    assert result.state == "ready", result.error
    scenes = lib.scenes(result.video_id).to_dicts()
    assert len(scenes) == len(SLIDES)
    for scene, slide in zip(scenes, SLIDES, strict=True):
        shown = [slide.title, *slide.lines] if slide.title else []
        # Each distinct line once, though the slide appears in several keyframes.
        assert scene["screen_text"].split("\n") == (shown or [""]), scene
        assert scene["text"] == "", "the video is silent: only the screen speaks"


def test_lines_keep_their_keyframe_box_and_confidence(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    detail = lib.scene(f"{result.video_id}:0").to_dict()
    margin = [ln for ln in detail["screen_lines"] if ln["text"] == "Operating margin 22 percent"]
    assert margin, detail["screen_lines"]
    for line in margin:
        assert 0 <= line["keyframe"] < len(detail["keyframes"])
        assert line["confidence"] >= lib.settings.ocr_min_confidence
        xs = [x for x, _y in line["box"]]
        ys = [y for _x, y in line["box"]]
        # Drawn at x≈40..48, y≈140 (30 px type) on a 640x360 slide; keyframes keep that size.
        assert 30 <= min(xs) <= 60 and 125 <= min(ys) <= 150 and max(ys) <= 185, line["box"]


def test_screen_lines_are_embedded_once_per_distinct_line(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    expected = sum(len(s.lines) + bool(s.title) for s in SLIDES)
    ids = lib.vectors.ids(SCENE_SCREEN, *text_model(lib), result.video_id)
    assert len(ids) == expected


def test_reindex_ocr_fills_an_existing_library_without_transcribing(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    before = lib.scenes(result.video_id).frame["screen_text"].to_list()
    with lib.catalog.session() as s:  # as a library ingested before the ocr stage existed
        lib.store.scenes.replace_screen_lines(s, result.video_id, [], {})
    assert set(lib.scenes(result.video_id).frame["screen_text"]) == {""}
    segments = lib.catalog.segments(result.video_id)
    assert lib.reindex("ocr") == 1
    assert lib.scenes(result.video_id).frame["screen_text"].to_list() == before
    assert lib.catalog.segments(result.video_id) == segments


class _Broken(OcrEngine):
    def __init__(self) -> None:  # no model: every read fails
        pass

    def read(self, image: object) -> list[tuple[list[list[float]], str, float]]:
        raise RuntimeError("engine crashed")


def test_a_frame_the_engine_cannot_read_leaves_the_scene_without_screen_text(
    tmp_path: Path, slides_ingested: tuple[Library, IngestResult]
) -> None:
    lib, _ = slides_ingested
    frame = tmp_path / "kf.jpg"
    slide_image(SLIDES[0]).save(frame)
    scene = Scene("v:0", "v", 0, 0.0, 3.0, "", (frame.name,))
    lines = read_screen_text([scene], tmp_path, _Broken(), lib.settings)
    assert lines == [] and scene_screen_text(lines) == {}


def test_a_keyframe_like_the_one_before_is_not_read_twice(
    tmp_path: Path, slides_ingested: tuple[Library, IngestResult]
) -> None:
    lib, _ = slides_ingested
    for n, drift in enumerate((0.0, 0.05, 1.0)):  # the first two differ by a pixel's drift
        slide_image(SLIDES[0] if n < 2 else SLIDES[1], drift).save(tmp_path / f"{n}.jpg")
    scene = Scene("v:0", "v", 0, 0.0, 9.0, "", ("0.jpg", "1.jpg", "2.jpg"))
    from heimdex_lab.ingest.ocr import ocr_engine

    real = ocr_engine(lib.settings.cpu_threads)
    reads: list[int] = []

    class Counting(OcrEngine):
        def __init__(self) -> None:
            pass

        def read(self, image: object) -> list[tuple[list[list[float]], str, float]]:
            reads.append(1)
            return real.read(image)  # type: ignore[arg-type]

    lines = read_screen_text([scene], tmp_path, Counting(), lib.settings)
    assert len(reads) == 2, "the repeated slide is read once"
    assert {ln.keyframe for ln in lines} == {0, 1, 2}, "its lines still belong to each keyframe"


@pytest.mark.parametrize(
    ("line", "kept"),
    [("Operating margin 22 percent", True), ("22", True), ("会议", True), ("中", True),
     ("★★", False), ("K", False), ("·", False)],
)  # fmt: skip
def test_only_lines_with_words_or_numbers_are_kept(line: str, kept: bool) -> None:
    from heimdex_lab.ingest.ocr import _readable

    assert _readable(line) is kept


def test_words_shown_on_a_slide_find_it_first_with_the_words_marked(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    page = lib.search("operating margin")
    top = page.hits[0]
    assert top.scene_id == f"{result.video_id}:0"
    assert top.snippet.startswith("On screen: ") and "**Operating** **margin**" in top.snippet
    assert top.scores["screen"] is not None and top.scores["keyword"] is not None
    assert "Operating margin 22 percent" in top.screen_text.split("\n")


def test_screen_marks_box_the_lines_with_the_query_words_in_one_keyframe(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    page = lib.search("operating margin")
    marks = lib.screen_marks(page)
    mark = marks[f"{result.video_id}:0"]
    detail = lib.scene(f"{result.video_id}:0").to_dict()
    assert mark.path == detail["keyframes"][mark.keyframe]
    # Only the line holding the words is boxed, as read in that keyframe.
    expected = [
        tuple(tuple(p) for p in ln["box"])
        for ln in detail["screen_lines"]
        if ln["keyframe"] == mark.keyframe and ln["text"] == "Operating margin 22 percent"
    ]
    assert list(mark.boxes) == expected and len(expected) == 1
    # Scenes whose screen holds none of the words get no mark (the plain slide has no text).
    assert set(marks) == {f"{result.video_id}:0"}


def test_screen_mode_finds_a_slide_by_meaning(
    slides_ingested: tuple[Library, IngestResult],
) -> None:
    lib, result = slides_ingested
    page = lib.search("hiring engineers", mode="screen")
    assert page.hits[0].scene_id == f"{result.video_id}:1"  # "Hire two data engineers"
    assert all(h.scores["text"] is None for h in page.hits), "screen mode uses that signal alone"


def test_the_sample_talk_is_found_by_its_slides_in_eval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """quarterly_review.mp4: the speaker says "as you can see here"; the slides say the rest.
    Every screen query of the bundled set finds its slide first, with either packaged text
    model. A library moves to the other model by `reindex text` (both transcript and screen
    vectors are the text model's); searched with a model it has no vectors of, it says so."""
    lib = Library.open(tmp_path / "library")
    lib.ingest([SAMPLES / "quarterly_review.mp4"], progress=False)
    ingested_with = lib.settings.text_model
    other = next(m for m in ("all-MiniLM-L6-v2", "all-mpnet-base-v2") if m != ingested_with)
    for model in (ingested_with, other):
        lib = Library.open(tmp_path / "library", text_model=model)
        if model == other:
            with caplog.at_level(logging.WARNING, logger="heimdex_lab.search.engine"):
                assert lib.search("the plan for next year", mode="text").hits == ()
            assert f"embedded with {ingested_with}, not {other}" in caplog.text
            assert lib.reindex("text") == 1
        report = lib.evaluate(SAMPLES / "queries.jsonl")
        assert report.by_kind == {} or "screen" in report.by_kind
        screen = report.by_kind.get("screen", report.metrics)
        assert screen["hybrid"] is not None and screen["hybrid"]["recall@1"] == 1.0, model
        assert screen["screen"] is not None and screen["screen"]["recall@1"] == 1.0, model
