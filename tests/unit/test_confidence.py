"""Result confidence: the labelling rule, the minimum filter's order, and fitting thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from heimdex_lab.errors import UsageError
from heimdex_lab.eval.confidence import fit_thresholds, rates
from heimdex_lab.search.confidence import at_least, check_level, exact_tier, label, similarity
from heimdex_lab.search.exact import ALL_WORDS, NO_MATCH, PHRASE

HIGH, MEDIUM = 0.6, 0.45


@pytest.mark.parametrize(
    ("sim", "tier", "want"),
    [
        (0.9, NO_MATCH, "high"),
        (HIGH, NO_MATCH, "high"),  # a threshold is reached at equality
        (0.59, NO_MATCH, "medium"),
        (MEDIUM, NO_MATCH, "medium"),
        (0.44, NO_MATCH, "low"),
        (-0.2, NO_MATCH, "low"),
        (None, NO_MATCH, "low"),  # found by a signal with no absolute scale only
        (0.1, ALL_WORDS, "high"),  # the scene holds every word asked for
        (None, PHRASE, "high"),
    ],
)
def test_label_from_similarity_and_exact_words(sim: float | None, tier: int, want: str) -> None:
    assert label(sim, tier, HIGH, MEDIUM) == want


def test_similarity_is_the_best_text_or_screen_cosine_never_a_relative_score() -> None:
    assert similarity({"text": 0.3, "keyword": 12.0, "image": 0.9, "screen": 0.5}) == 0.5
    assert similarity({"text": 0.3, "keyword": None, "image": None, "screen": None}) == 0.3
    assert similarity({"text": None, "keyword": 7.5, "image": 0.31, "screen": None}) is None


def test_exact_tier_is_the_short_query_rule_of_exact_first() -> None:
    text = "The rocket launch was delayed.\nBudget 2024"
    assert exact_tier("rocket launch", text, max_words=4) == PHRASE
    assert exact_tier("launch budget", text, max_words=4) == ALL_WORDS
    assert exact_tier("submarine", text, max_words=4) == NO_MATCH
    assert exact_tier("the", text, max_words=4) == NO_MATCH  # no content word
    assert exact_tier("rocket launch", text, max_words=1) == NO_MATCH  # a longer query


def test_levels_order_and_bad_names() -> None:
    assert at_least("high", "medium") and at_least("medium", "medium") and at_least("low", "low")
    assert not at_least("low", "medium") and not at_least("medium", "high")
    assert check_level("medium") == "medium"
    with pytest.raises(
        UsageError, match=r"unknown confidence 'sure' \(choose from: low, medium, high\)"
    ):
        check_level("sure")


def row(
    kind: str, evidence: list[tuple[float | None, int]], correct: bool = False
) -> dict[str, Any]:
    return {"kind": kind, "unanswerable": kind == "unanswerable", "correct": correct,
            "evidence": evidence}  # fmt: skip


ROWS = [
    # Unanswerable queries: their nearest scenes say something roughly alike at best.
    *[row("unanswerable", [(0.20 + n / 100, NO_MATCH), (0.1, NO_MATCH)]) for n in range(9)],
    row("unanswerable", [(0.25, NO_MATCH), (0.40, NO_MATCH)]),  # a weak one lower down
    # Answerable: right at the top, by meaning or by the exact word; one wrong top.
    *[row("spoken", [(0.5 + n / 100, NO_MATCH)], correct=True) for n in range(10)],
    row("keyword", [(0.15, PHRASE)], correct=True),
    row("spoken", [(0.3, NO_MATCH)], correct=False),
]


def test_fit_keeps_unanswerable_queries_low_and_correct_tops_sure() -> None:
    high, medium = fit_thresholds(ROWS, target=0.10)
    # 10 unanswerable queries: one may get a medium result (its 0.40 lower down), not two.
    assert medium == pytest.approx(0.29)
    assert high == pytest.approx(0.41)  # above every unanswerable result
    got = rates(ROWS, high, medium)
    assert got["unanswerable_any_sure"] == pytest.approx(0.1)
    assert got["unanswerable_any_high"] == 0.0
    assert got["unanswerable_top_sure"] == 0.0
    assert got["correct_top_sure"] == 1.0 and got["correct_top_high"] == 1.0
    assert got["correct_top1"] == pytest.approx(11 / 12)


def test_fit_with_a_stricter_target_raises_medium() -> None:
    high, medium = fit_thresholds(ROWS, target=0.0)
    assert medium == pytest.approx(0.41) and high == pytest.approx(0.41)


def test_fit_needs_unanswerable_queries() -> None:
    with pytest.raises(ValueError, match="unanswerable"):
        fit_thresholds([r for r in ROWS if not r["unanswerable"]])
