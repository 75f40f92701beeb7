"""Pure rules of ingestion: scene spans, long-scene splitting, keyframe times, scene text."""

from __future__ import annotations

import itertools

import pytest

from heimdex_lab.config import Settings
from heimdex_lab.ingest.keyframes import keyframe_times
from heimdex_lab.ingest.scene_text import join_words, sentence_windows, sentences, words_in
from heimdex_lab.ingest.scenes import spans_from_cuts, split_long
from heimdex_lab.types import SceneSpan, Word


def test_spans_cover_the_whole_video_without_gaps() -> None:
    spans = spans_from_cuts([4.0, 2.0, 9.5], 12.0)
    assert spans == [
        SceneSpan(0.0, 2.0),
        SceneSpan(2.0, 4.0),
        SceneSpan(4.0, 9.5),
        SceneSpan(9.5, 12.0),
    ]


def test_cuts_outside_the_video_are_ignored() -> None:
    assert spans_from_cuts([0.0, 13.0], 12.0) == [SceneSpan(0.0, 12.0)]


def test_no_scene_exceeds_the_maximum_length() -> None:
    spans = split_long([SceneSpan(0.0, 95.0), SceneSpan(95.0, 100.0)], 30.0)
    assert [round(s.end - s.start, 2) for s in spans] == [23.75] * 4 + [5.0]
    assert spans[0].start == 0.0 and spans[3].end == 95.0 and spans[4] == SceneSpan(95.0, 100.0)
    assert all(b.start == a.end for a, b in itertools.pairwise(spans))


def test_a_scene_of_exactly_the_maximum_is_not_split() -> None:
    assert split_long([SceneSpan(10.0, 40.0)], 30.0) == [SceneSpan(10.0, 40.0)]


@pytest.mark.parametrize(
    ("length", "expected"),
    [(4.0, [2.0]), (12.0, [6.0]), (25.0, [6.25, 12.5, 18.75]), (300.0, [75.0, 150.0, 225.0])],
)
def test_keyframes_include_the_middle_and_more_for_long_scenes(
    length: float, expected: list[float]
) -> None:
    assert keyframe_times(0.0, length, Settings()) == expected


def test_scene_text_takes_words_by_their_own_time() -> None:
    words = [Word(0.1, 0.4, "Hello"), Word(1.9, 2.3, "there."), Word(2.4, 2.8, "Next")]
    # "there." has its midpoint at 2.1 s, so it belongs to the scene starting at 2.0 s.
    assert join_words(words_in(words, SceneSpan(0.0, 2.0))) == "Hello"
    assert join_words(words_in(words, SceneSpan(2.0, 5.0))) == "there. Next"


def test_sentences_split_at_end_punctuation_and_cap_long_runs() -> None:
    assert sentences("One two. Three four? Five") == ["One two.", "Three four?", "Five"]
    assert sentences(" ".join(["w"] * 90), max_words=40) == [" ".join(["w"] * 40)] * 2 + [
        " ".join(["w"] * 10)
    ]
    assert sentences("   ") == []


def test_each_sentence_is_embedded_with_its_neighbours_of_the_same_scene() -> None:
    text = "One. Two. Three. Four."
    assert sentence_windows(text, 1) == ["One. Two.", "One. Two. Three.", "Two. Three. Four.",
                                         "Three. Four."]  # fmt: skip
    assert sentence_windows(text, 0) == sentences(text)
    assert sentence_windows("Alone.", 2) == ["Alone."]
    assert sentence_windows("", 1) == []
    # one unit per sentence: vector ids {scene_id}:{k} still count sentences
    assert len(sentence_windows(text, 3)) == len(sentences(text))
