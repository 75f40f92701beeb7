"""Exact words win on the real samples: a word or phrase said in one scene finds it first."""

from __future__ import annotations

import itertools
import re

from heimdex_lab import Library
from heimdex_lab.search.exact import content_stems, match_tier
from heimdex_lab.search.snippet import STOPWORDS
from heimdex_lab.types import IngestResult


def said_once(lib: Library) -> dict[str, str]:
    """Each content word and each pair of adjacent content words of the transcripts that
    exactly one scene holds, with that scene's id."""
    texts = {
        scene.scene_id: scene.text
        for video in lib.store.videos.all()
        for scene in lib.store.scenes.of_video(video.id)
        if scene.text
    }
    stems = {sid: content_stems(text) for sid, text in texts.items()}
    queries: dict[str, str] = {}
    for text in texts.values():
        words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS]
        for query in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
            holders = [sid for sid in texts if match_tier(content_stems(query), stems[sid])]
            if len(holders) == 1:
                queries[query] = holders[0]
    return queries


def test_a_word_or_phrase_said_in_one_scene_ranks_that_scene_first(
    ingested: tuple[Library, list[IngestResult]],
) -> None:
    lib = ingested[0]
    queries = said_once(lib)
    assert len(queries) >= 30
    # Meaning alone puts another scene first for some of them (the case this rule is for);
    # otherwise this test would pass without it.
    meaning_misses = [
        q for q, sid in queries.items() if lib.search(q, k=1, mode="text").hits[0].scene_id != sid
    ]
    assert meaning_misses, "no query where meaning alone ranks another scene first"
    wrong = {
        q: lib.search(q, k=1).hits[0].text
        for q, sid in queries.items()
        if lib.search(q, k=1).hits[0].scene_id != sid
    }
    assert wrong == {}
