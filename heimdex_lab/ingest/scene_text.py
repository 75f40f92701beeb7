"""Scene text: the transcript words whose time falls inside a scene, and its sentences.

Pure functions: word times (not segment times, which drift by seconds) decide membership.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from heimdex_lab.types import SceneSpan, Segment, Word

_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*$")


def all_words(segments: Sequence[Segment]) -> list[Word]:
    return [w for seg in segments for w in seg.words]


def words_in(words: Sequence[Word], span: SceneSpan) -> list[Word]:
    """Words whose midpoint lies in [start, end)."""
    return [w for w in words if span.start <= (w.start + w.end) / 2 < span.end]


def join_words(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def sentences(text: str, max_words: int = 40) -> list[str]:
    """Split scene text into sentences at end punctuation (long runs cut at ``max_words``)."""
    out: list[str] = []
    current: list[str] = []
    for token in text.split():
        current.append(token)
        if _SENTENCE_END.search(token) or len(current) >= max_words:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out
