"""How far a search result can be trusted: ``high``, ``medium`` or ``low`` (pure functions).

Fused scores rank the scenes of one query but say nothing across queries: z-scores put some
scene on top of every list, even for a query the library cannot answer. The label rests on
absolute evidence instead: the scene holds every content word of a short query (its exact-word
tier, ``exact.match_tier``), or what was said or shown means nearly what was asked (the better
of the text and screen cosines). Visual (CLIP) similarity is not used: no real CLIP weights
were at hand to calibrate it on. The two cosine thresholds are settings
(``confidence_high``, ``confidence_medium``), fitted on answerable and unanswerable queries
by ``heimdex_lab.eval.confidence.fit_thresholds`` (notebook 20_eval_retrieval).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from heimdex_lab.errors import UsageError
from heimdex_lab.search.exact import NO_MATCH, content_stems, match_tier

Confidence = Literal["low", "medium", "high"]
LEVELS: tuple[Confidence, ...] = ("low", "medium", "high")  # weakest first
# The signals whose scores are cosines of the same text model, comparable across queries.
ABSOLUTE_SIGNALS = ("text", "screen")


def similarity(scores: Mapping[str, float | None]) -> float | None:
    """The best absolute similarity among a hit's signals (None: none of them found it)."""
    found = [s for name in ABSOLUTE_SIGNALS if (s := scores.get(name)) is not None]
    return max(found) if found else None


def exact_tier(query: str, text: str, max_words: int) -> int:
    """The exact-word tier of ``text`` for ``query``, as search's exact-first computes it:
    ``NO_MATCH`` for a query of no content word or of more than ``max_words``."""
    words = content_stems(query)
    if not 0 < len(words) <= max_words:
        return NO_MATCH
    return match_tier(words, content_stems(text))


def label(similarity: float | None, tier: int, high: float, medium: float) -> Confidence:
    """``high`` for an exact-word match or a similarity of at least ``high``, ``medium`` for one
    of at least ``medium``, else ``low``."""
    if tier > NO_MATCH or (similarity is not None and similarity >= high):
        return "high"
    if similarity is not None and similarity >= medium:
        return "medium"
    return "low"


def check_level(level: str) -> Confidence:
    """``level`` as a confidence, or `UsageError` naming the choices."""
    for known in LEVELS:
        if level == known:
            return known
    raise UsageError(f"unknown confidence {level!r} (choose from: {', '.join(LEVELS)})")


def at_least(level: str, minimum: str) -> bool:
    """Whether ``level`` is ``minimum`` or stronger."""
    return LEVELS.index(check_level(level)) >= LEVELS.index(check_level(minimum))
