"""Search grouped by video and the transcript's timed sentences (pure functions)."""

from __future__ import annotations

import pytest

from heimdex_lab.ingest.scene_text import timed_sentences
from heimdex_lab.search.grouping import group_by_video
from heimdex_lab.types import Segment, Sentence, Word


def test_videos_come_in_the_order_of_their_best_scene_with_their_best_scenes() -> None:
    ranked = ["b:3", "a:0", "b:1", "a:2", "b:0", "c:5", "b:7"]
    assert group_by_video(ranked, per_video=2) == [
        ("b", ["b:3", "b:1"], 4),
        ("a", ["a:0", "a:2"], 2),
        ("c", ["c:5"], 1),
    ]
    assert group_by_video(ranked, per_video=1)[0] == ("b", ["b:3"], 4)
    assert group_by_video([], per_video=3) == []


def test_a_video_id_holding_a_colon_keeps_it() -> None:
    assert group_by_video(["x:y:4", "x:y:1"], 3) == [("x:y", ["x:y:4", "x:y:1"], 2)]


def test_per_video_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="per_video"):
        group_by_video(["a:0"], 0)


def _segment(*words: tuple[float, float, str]) -> Segment:
    return Segment(words[0][0], words[-1][1], " ".join(w[2] for w in words),
                   tuple(Word(*w) for w in words))  # fmt: skip


def test_sentences_are_timed_by_their_first_and_last_words_across_segments() -> None:
    segments = [
        _segment((0.1, 0.4, " Hello"), (0.5, 0.9, " there."), (1.2, 1.5, " The")),
        _segment((1.6, 2.0, " cat"), (2.1, 2.6, " sleeps!"), (3.0, 3.4, " Then")),
    ]
    assert timed_sentences(segments) == [
        Sentence(0.1, 0.9, "Hello there."),
        Sentence(1.2, 2.6, "The cat sleeps!"),
        Sentence(3.0, 3.4, "Then"),  # the unfinished last sentence is kept
    ]


def test_a_long_run_without_punctuation_is_cut_and_a_wordless_segment_is_one_sentence() -> None:
    words = tuple(Word(float(n), n + 0.5, f" w{n}") for n in range(5))
    segments = [
        Segment(0.0, 4.5, "", words),
        Segment(6.0, 8.0, "  Spoken without word times  ", ()),
        Segment(8.0, 9.0, "   ", ()),
    ]
    assert timed_sentences(segments, max_words=2) == [
        Sentence(0.0, 1.5, "w0 w1"),
        Sentence(2.0, 3.5, "w2 w3"),
        Sentence(4.0, 4.5, "w4"),
        Sentence(6.0, 8.0, "Spoken without word times"),
    ]
