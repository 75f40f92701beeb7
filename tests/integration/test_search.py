"""Hybrid search over the ingested samples: ranking, contract, pagination, filters, eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from heimdex_lab import Library
from heimdex_lab.errors import NotFound, UsageError
from heimdex_lab.store.schema import VideoRow

ROOT = Path(__file__).resolve().parents[2]
HIT_KEYS = ["scene_id", "video_id", "filename", "start", "end", "score", "scores", "text",
            "screen_text", "snippet", "people", "keyframe", "confidence"]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "video", "no"),
    [
        ("the launch was postponed because they ran out of money", "space_talk.mp4", 0),
        ("a space traveller recalls her maiden voyage", "space_talk.mp4", 1),
        ("someone prepares coffee in the morning", "kitchen_cat.mkv", 0),
        ("the pet naps by the window", "kitchen_cat.mkv", 1),
    ],
)
@pytest.mark.parametrize("mode", ["text", "hybrid"])
def test_paraphrased_speech_finds_its_scene_first(
    lib: Library, ids: dict[str, str], query: str, video: str, no: int, mode: str
) -> None:
    page = lib.search(query, k=3, mode=mode)
    assert page.hits[0].scene_id == f"{ids[video]}:{no}"


def test_keyword_match_is_marked_in_the_snippet(lib: Library, ids: dict[str, str]) -> None:
    page = lib.search("compiler", mode="keyword")
    assert page.total == 1
    (hit,) = page.hits
    assert hit.scene_id == f"{ids['kitchen_cat.mkv']}:2"
    assert "**compiler**" in hit.snippet
    assert hit.scores["keyword"] is not None and hit.scores["keyword"] > 0
    assert hit.scores["text"] is None and hit.scores["image"] is None


def test_hybrid_result_carries_every_signal_and_the_scene(
    lib: Library, ids: dict[str, str]
) -> None:
    hit = lib.search("the rocket launch budget", k=1).hits[0]
    assert hit.scene_id == f"{ids['space_talk.mp4']}:0"
    assert set(hit.scores) == {"text", "keyword", "image", "screen"}
    # Vision is on (tiny CLIP); the rocket photo shows no text, so no screen score.
    assert all(isinstance(hit.scores[s], float) for s in ("text", "keyword", "image"))
    assert hit.scores["screen"] is None and hit.screen_text == ""
    assert (hit.filename, hit.start, hit.end) == ("space_talk.mp4", 0.0, 5.04)
    assert hit.keyframe is not None and Path(hit.keyframe).is_file()
    assert "**rocket**" in hit.snippet and "**budget**" in hit.snippet


def test_pages_are_disjoint_and_total_is_stable(lib: Library) -> None:
    query = "people talking about space"
    whole = lib.search(query, k=50)
    pages = [lib.search(query, k=2, page=p) for p in (1, 2, 3, 4, 5)]
    assert {p.total for p in pages} == {whole.total}
    paged = [h.scene_id for p in pages for h in p.hits]
    assert paged == [h.scene_id for h in whole.hits][: len(paged)]
    assert len(set(paged)) == len(paged)
    past = lib.search(query, k=2, page=whole.total)  # far past the end
    assert past.hits == () and past.total == whole.total


def test_video_filter_and_empty_query_listing(lib: Library, ids: dict[str, str]) -> None:
    page = lib.search("coffee", videos=[ids["space_talk.mp4"]])
    assert page.hits and {h.video_id for h in page.hits} == {ids["space_talk.mp4"]}
    listing = lib.search("", videos=[ids["kitchen_cat.mkv"], ids["silent_coins.webm"]], k=4)
    assert listing.total == 6
    assert [h.scene_id for h in listing.hits] == [
        f"{ids['kitchen_cat.mkv']}:{n}" for n in range(3)
    ] + [f"{ids['silent_coins.webm']}:0"]
    assert listing.hits[0].snippet == listing.hits[0].text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"query": "   "}, UsageError),
        ({"query": "cat", "k": 0}, UsageError),
        ({"query": "cat", "page": 0}, UsageError),
        ({"query": "cat", "mode": "psychic"}, UsageError),
        ({"query": "cat", "videos": ["nope"]}, NotFound),
        ({"query": "cat", "people": ["Nobody"]}, NotFound),
        ({"query": "cat", "min_confidence": "certain"}, UsageError),
    ],
)
def test_bad_requests_are_clear_errors(lib: Library, kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        lib.search(**kwargs)


def test_scenes_of_unfinished_videos_are_not_returned(lib: Library, ids: dict[str, str]) -> None:
    video_id = ids["kitchen_cat.mkv"]
    with lib.catalog.session() as s:
        s.execute(update(VideoRow).where(VideoRow.id == video_id).values(state="embedding"))
    try:
        for mode in ("keyword", "text", "hybrid"):
            assert all(h.video_id != video_id for h in lib.search("compiler", mode=mode).hits)
    finally:
        with lib.catalog.session() as s:
            s.execute(update(VideoRow).where(VideoRow.id == video_id).values(state="ready"))


def test_another_user_finds_nothing(lib: Library) -> None:
    other = Library.open(lib.path, user="mallory")
    assert other.search("rocket").total == 0


def test_cli_search_json_contract(cli, ids: dict[str, str]) -> None:
    result = cli("search", "orbit", "-k", "2", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == ["query", "total", "page", "k", "results"]
    assert (doc["query"], doc["page"], doc["k"]) == ("orbit", 1, 2)
    assert [list(r) for r in doc["results"]] == [HIT_KEYS] * len(doc["results"])
    assert doc["results"][0]["scene_id"] == f"{ids['space_talk.mp4']}:1"
    assert list(doc["results"][0]["scores"]) == ["text", "keyword", "image", "screen"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", ""], "empty query"),
        (["search", "cat", "--video", "nope"], "no video with id 'nope'"),
        (["search", "cat", "--person", "Ada"], "no person named 'Ada'"),
        (["search", "cat", "-k", "0"], "k must be at least 1"),
        (["scene", "nope:1"], "no scene with id 'nope:1'"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("heimdex: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unanswerable_query_is_all_low_and_an_exact_word_high(lib: Library) -> None:
    nothing = lib.search("penguins on an iceberg", k=100)
    assert nothing.total == len(nothing.hits) > 0  # every scene is still ranked...
    assert {h.confidence for h in nothing.hits} == {"low"}  # ...and none is called a match
    budget = lib.search("budget")
    assert "budget" in budget.hits[0].text.lower() and budget.hits[0].confidence == "high"
    said = lib.search("the launch was postponed because they ran out of money")
    assert said.hits[0].confidence == "high"  # a close paraphrase of what was said


def test_min_confidence_hides_weaker_results_and_total_counts_the_rest(lib: Library) -> None:
    everything = lib.search("budget", k=100)
    assert lib.search("budget", k=100, min_confidence="low") == everything  # the default
    for minimum, kept in (("medium", {"medium", "high"}), ("high", {"high"})):
        sure = lib.search("budget", k=100, min_confidence=minimum)
        want = [h for h in everything.hits if h.confidence in kept]
        assert sure.hits == tuple(want) and sure.total == len(want)  # same order, same hits
    assert lib.search("budget", k=100, min_confidence="high").total < everything.total
    assert lib.search("penguins on an iceberg", min_confidence="medium").total == 0


def test_cli_min_confidence(cli) -> None:
    result = cli("search", "penguins on an iceberg", "--min-confidence", "medium", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "query": "penguins on an iceberg", "total": 0, "page": 1, "k": 10, "results": []
    }  # fmt: skip
    result = cli("search", "budget", "--min-confidence", "high", "--json")
    doc = json.loads(result.stdout)
    assert doc["total"] >= 1 and {r["confidence"] for r in doc["results"]} == {"high"}
    human = cli("search", "budget", "-k", "1")
    assert human.exit_code == 0 and " high " in human.stdout
    bad = cli("search", "budget", "--min-confidence", "sure")
    assert bad.exit_code == 2 and "unknown confidence 'sure'" in bad.stderr


def test_cli_page_past_the_end_is_empty_not_an_error(cli) -> None:
    result = cli("search", "rocket", "--page", "99", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"] == []


def test_scene_details_give_neighbours_and_transcript(cli, ids: dict[str, str]) -> None:
    video_id = ids["space_talk.mp4"]
    result = cli("scene", f"{video_id}:1", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["neighbours"] == [f"{video_id}:0", f"{video_id}:2"]
    assert doc["filename"] == "space_talk.mp4" and doc["video_id"] == video_id
    assert "astronaut" in doc["text"].lower()
    assert "rocket" in doc["transcript"].lower() and "galaxies" in doc["transcript"].lower()


def test_eval_reports_every_signal(cli) -> None:
    result = cli("eval", str(ROOT / "data" / "samples" / "queries.jsonl"), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc["metrics"]) == {"text", "keyword", "image", "screen", "hybrid"}
    assert set(doc["metrics"]["hybrid"]) == {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"}
    spoken, keyword = doc["by_kind"]["spoken"], doc["by_kind"]["keyword"]
    assert keyword["keyword"]["recall@1"] == 1.0
    assert spoken["text"]["recall@5"] >= 0.8
    assert spoken["hybrid"]["recall@1"] >= spoken["keyword"]["recall@1"]
    # The samples' unanswerable queries get no high or medium result; right answers do.
    nothing = doc["unanswerable"]
    assert nothing["queries"] == 12 and nothing["sure_top"] == nothing["sure_any"] == 0.0
    # Right tops of 12 spoken and 7 keyword queries (visual ones are not vouched for).
    assert doc["confidence"]["correct_top"] >= 18 and doc["confidence"]["sure"] >= 0.9


def test_eval_names_the_bad_line(cli, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "a", "relevant": []}\n')
    result = cli("eval", str(queries))
    assert result.exit_code == 2
    assert f"{queries}:1: a query needs at least one relevant range" in result.stderr
