"""Snippets mark the query's words, cut long text around the first match."""

from __future__ import annotations

from heimdex_lab.search.snippet import mark, query_terms, stem


def test_query_terms_drop_stopwords_unless_nothing_else_is_left() -> None:
    assert query_terms("The rocket and the budget") == ["rocket", "budget"]
    assert query_terms("the and") == ["the", "and"]


def test_stems_join_inflections() -> None:
    assert stem("launches") == stem("launch") == "launch"
    assert stem("talked") == "talk"
    assert stem("is") == "is"


def test_marks_whole_words_not_punctuation() -> None:
    assert mark("The rocket launch was delayed.", "launching rockets") == (
        "The **rocket** **launch** was delayed."
    )
    assert mark("It was delayed.", "delay") == "It was **delayed**."


def test_long_text_is_cut_around_the_first_match() -> None:
    words = [f"w{i}" for i in range(100)]
    words[60] = "budget"
    out = mark(" ".join(words), "budget", max_words=20)
    assert out.startswith("… w55 ") and "**budget**" in out and out.endswith(" …")
    assert len(out.split()) == 22  # 20 words and two ellipses
