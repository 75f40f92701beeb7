"""Search grouped by video and the video page's data, on the ingested samples (Library and
CLI): one row per video with its best scenes, and a transcript of timed sentences."""

from __future__ import annotations

import json

import pytest

from heimdex_lab import Library
from heimdex_lab.errors import NotFound, UsageError
from tests.integration.test_search import HIT_KEYS


def test_grouped_by_video_each_video_once_with_its_best_scenes(
    lib: Library, ids: dict[str, str]
) -> None:
    scenes = lib.search("the pet naps by the window", k=100)
    videos = lib.search("the pet naps by the window", k=100, group="video")
    assert videos.groups is not None and scenes.groups is None
    # One row per video, in the order of its best scene; that scene leads its row.
    order = list(dict.fromkeys(h.video_id for h in scenes.hits))
    assert [g.video_id for g in videos.groups] == order and videos.total == len(order)
    top = videos.groups[0]
    assert top.video_id == ids["kitchen_cat.mkv"] and top.hits[0] == scenes.hits[0]
    for group in videos.groups:
        mine = [h for h in scenes.hits if h.video_id == group.video_id]
        assert group.hits == tuple(mine[: lib.settings.group_scenes])  # best first, at most 3
        assert group.matched == len(mine) and group.score == mine[0].score
        assert group.confidence == max((h.confidence for h in mine),
                                       key=("low", "medium", "high").index)  # fmt: skip
    assert videos.hits == tuple(h for g in videos.groups for h in g.hits)


def test_grouped_pages_count_videos_and_the_confidence_cut_applies_first(lib: Library) -> None:
    first = lib.search("rocket", k=1, group="video")
    second = lib.search("rocket", k=1, page=2, group="video")
    assert first.total == second.total >= 2 and first.k == 1
    assert len(first.groups or ()) == len(second.groups or ()) == 1
    assert first.groups[0].video_id != second.groups[0].video_id  # type: ignore[index]
    sure = lib.search("budget", k=100, min_confidence="high", group="video")
    assert sure.groups and all(h.confidence == "high" for g in sure.groups for h in g.hits)
    assert lib.search("penguins on an iceberg", min_confidence="medium", group="video").total == 0


def test_grouped_listing_without_a_query(lib: Library, ids: dict[str, str]) -> None:
    found = lib.search("", videos=[ids["space_talk.mp4"]], group="video")
    assert found.total == 1 and found.groups is not None
    (group,) = found.groups
    assert [h.start for h in group.hits] == sorted(h.start for h in group.hits)
    assert group.matched == len(lib.scenes(ids["space_talk.mp4"]))


def test_an_unknown_group_is_a_usage_error(lib: Library) -> None:
    with pytest.raises(UsageError, match="unknown group 'person'"):
        lib.search("rocket", group="person")


def test_cli_default_output_is_unchanged_and_group_video_has_its_own_shape(
    cli, lib: Library, ids: dict[str, str]
) -> None:
    plain = cli("search", "orbit", "-k", "2", "--json")
    assert plain.exit_code == 0, plain.stderr
    assert (
        plain.stdout
        == json.dumps(lib.search("orbit", k=2).to_dict(), ensure_ascii=False, indent=2) + "\n"
    )
    assert list(json.loads(plain.stdout)) == ["query", "total", "page", "k", "results"]
    same = cli("search", "orbit", "-k", "2", "--group", "scene", "--json")
    assert same.stdout == plain.stdout

    grouped = cli("search", "orbit", "--group", "video", "--json")
    assert grouped.exit_code == 0, grouped.stderr
    doc = json.loads(grouped.stdout)
    assert list(doc) == ["query", "group", "total", "page", "k", "videos"]
    assert doc["group"] == "video" and doc["total"] == len(doc["videos"])
    top = doc["videos"][0]
    assert list(top) == ["video_id", "filename", "score", "confidence", "matched", "scenes"]
    assert (top["video_id"], top["filename"]) == (ids["space_talk.mp4"], "space_talk.mp4")
    assert top["scenes"][0]["scene_id"] == f"{ids['space_talk.mp4']}:1"
    assert [list(s) for s in top["scenes"]] == [HIT_KEYS] * len(top["scenes"])

    human = cli("search", "orbit", "--group", "video")
    assert human.exit_code == 0 and "video(s); page 1" in human.stdout
    assert "space_talk.mp4" in human.stdout.splitlines()[1]
    bad = cli("search", "orbit", "--group", "person")
    assert bad.exit_code == 2 and "unknown group 'person'" in bad.stderr


def test_the_transcript_is_timed_sentences_inside_the_video(
    lib: Library, ids: dict[str, str]
) -> None:
    sentences = lib.transcript(ids["space_talk.mp4"])
    assert [s.text for s in sentences] == [
        "The rocket launch was delayed because the budget ran out.",
        "The astronaut described her first flight into orbit.",
        "Telescope showed galaxies that are billions of years old.",
    ]
    scenes = lib.scenes(ids["space_talk.mp4"]).frame
    for sentence, scene in zip(sentences, scenes.iter_rows(named=True), strict=True):
        assert scene["start"] <= sentence.start < sentence.end <= scene["end"]  # said in it
    assert lib.transcript(ids["silent_coins.webm"]) == []  # no audio: no sentence


def test_the_video_page_marks_the_matching_scenes_with_their_confidence(
    lib: Library, ids: dict[str, str]
) -> None:
    talk = ids["space_talk.mp4"]
    plain = lib.video_page(talk)
    assert plain.filename == "space_talk.mp4" and plain.matches == () and plain.query == ""
    assert [s.no for s in plain.scenes] == [0, 1, 2] and all(s.keyframes for s in plain.scenes)
    assert plain.sentences == tuple(lib.transcript(talk))

    found = lib.video_page(talk, "she went into orbit")
    assert found.matches[0].scene_id == f"{talk}:1" and found.matches[0].confidence == "high"
    assert {m.scene_id.rsplit(":", 1)[0] for m in found.matches} == {talk}  # this video only
    sure = lib.video_page(talk, "she went into orbit", min_confidence="medium")
    assert [m.confidence for m in sure.matches] == [
        m.confidence for m in found.matches if m.confidence != "low"
    ]
    assert lib.video_page(talk, "penguins on an iceberg", "medium").matches == ()


def test_another_users_video_page_is_not_found(lib: Library, ids: dict[str, str]) -> None:
    other = Library.open(lib.path, user="mallory")
    with pytest.raises(NotFound):
        other.video_page(ids["space_talk.mp4"])
    with pytest.raises(NotFound):
        other.transcript(ids["space_talk.mp4"])
