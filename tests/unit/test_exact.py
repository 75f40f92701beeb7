"""Exact words win: Porter stems as FTS5 makes them, match tiers, and the lift above the rest."""

from __future__ import annotations

import sqlite3

import pytest

from heimdex_lab.search.exact import ALL_WORDS, NO_MATCH, PHRASE, content_stems, match_tier
from heimdex_lab.search.fusion import exact_first, rank
from heimdex_lab.search.porter import porter_stem

# Porter's own examples, the inflections transcripts are full of, and the sample sentences.
WORDS = """
caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled
sized hopping tanned falling hissing fizzed failing filing happy sky relational conditional
rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli
vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti
sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness
revival allowance inference airliner gyroscopic adjustable defensible irritant replacement
adjustment dependent adoption homologou communism activate angulariti homologous effective
bowdlerize probate rate cease controll roll generalizations oscillators archaeology
launches launched launching rocket rockets delayed delay budget budgets astronaut described
describing flight flights orbit orbiting telescopes galaxies galaxy billions years old coffee
brewed brewing mornings kitchen orange cats sleeps sleeping afternoon windowsill grace hopper
explained explaining compiler compilers worked working engineers checked valves countdown
photographer tripod craters ancient impacts horse galloped sunset midnight ies eed a an is
"""
VOCABULARY = WORDS.split()


def fts5_stem(db: sqlite3.Connection, word: str) -> str:
    db.execute("DELETE FROM t")
    db.execute("INSERT INTO t VALUES (?)", (word,))
    (term,) = db.execute("SELECT term FROM v").fetchone()
    return str(term)


def test_porter_stems_are_exactly_fts5s() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    mismatches = {w: (porter_stem(w), fts5_stem(db, w)) for w in VOCABULARY}
    assert {w: pair for w, pair in mismatches.items() if pair[0] != pair[1]} == {}


@pytest.mark.parametrize(
    ("word", "stem"),
    [("caresses", "caress"), ("ponies", "poni"), ("hopping", "hop"), ("relational", "relat"),
     ("generalizations", "gener"), ("launches", "launch"), ("galaxies", "galaxi"), ("is", "is")],
)  # fmt: skip
def test_porter_known_stems(word: str, stem: str) -> None:
    assert porter_stem(word) == stem


def test_content_stems_fold_case_accents_and_drop_stop_words() -> None:
    assert content_stems("The Rocket's launches, café!") == ["rocket", "launch", "cafe"]
    assert content_stems("the and of") == []
    assert content_stems("COVID-19 in 2020") == ["covid", "19", "2020"]


@pytest.mark.parametrize(
    ("query", "text", "tier"),
    [
        ("compiler", "Grace Hopper explained how the first compiler worked.", PHRASE),
        ("compilers", "Grace Hopper explained how the first compiler worked.", PHRASE),
        ("Grace Hopper", "Grace Hopper explained how the first compiler worked.", PHRASE),
        ("hopper grace", "Grace Hopper explained how the first compiler worked.", ALL_WORDS),
        ("first compiler", "The first of them: a compiler.", PHRASE),  # stop words between
        ("first compiler", "A compiler came first.", ALL_WORDS),
        ("compiler budget", "Grace Hopper explained how the first compiler worked.", NO_MATCH),
        ("the", "the cat", NO_MATCH),  # only stop words: nothing to match exactly
        ("launch", "The launching of the rocket", PHRASE),
    ],
)
def test_match_tier(query: str, text: str, tier: int) -> None:
    assert match_tier(content_stems(query), content_stems(text)) == tier


def test_exact_matches_rank_first_each_tier_in_fused_order() -> None:
    fused = {"meaning": 2.5, "close": 1.0, "phrase": -0.5, "words_a": 0.2, "words_b": 0.4}
    tiers = {"phrase": PHRASE, "words_a": ALL_WORDS, "words_b": ALL_WORDS, "close": NO_MATCH}
    lifted = exact_first(fused, tiers, gap=0.01)
    assert rank(lifted) == ["phrase", "words_b", "words_a", "meaning", "close"]
    # Looser matches keep their scores; a tier moves as a block just above the one below.
    assert lifted["meaning"] == 2.5 and lifted["close"] == 1.0
    assert lifted["words_a"] == pytest.approx(2.51)
    assert lifted["words_b"] - lifted["words_a"] == pytest.approx(0.2)
    assert lifted["phrase"] == pytest.approx(lifted["words_b"] + 0.01)


def test_exact_matches_already_on_top_are_not_moved() -> None:
    fused = {"exact": 3.0, "other": 1.0}
    assert exact_first(fused, {"exact": PHRASE}) == fused


def test_no_exact_match_or_only_exact_matches_change_nothing() -> None:
    fused = {"a": 1.0, "b": 2.0}
    assert exact_first(fused, {}) == fused
    assert exact_first(fused, {"a": ALL_WORDS, "b": ALL_WORDS}) == fused
    assert exact_first(fused, {"unknown": PHRASE}) == fused  # not a candidate: ignored
    with pytest.raises(ValueError, match="gap"):
        exact_first(fused, {}, gap=0.0)
