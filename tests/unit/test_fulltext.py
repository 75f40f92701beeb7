"""CJK runs are indexed as overlapping character pairs; other scripts as they are (SQLite) or
with Latin accents folded (PostgreSQL)."""

from heimdex_lab.store.fulltext import fold_accents, index_text, tsvector_text


def test_a_cjk_run_becomes_its_overlapping_pairs() -> None:
    assert index_text("東京タワー").split() == ["東京", "京タ", "タワ", "ワー"]


def test_latin_text_and_its_accents_are_left_to_the_tokenizer() -> None:
    assert index_text("El cohete se retrasó.") == "El cohete se retrasó."


def test_mixed_text_keeps_its_latin_words_and_pairs_each_run() -> None:
    words = index_text("Operating margin 营业利润率 22%").split()
    assert words == ["Operating", "margin", "营业", "业利", "利润", "润率", "22%"]


def test_a_single_cjk_character_and_hangul_words() -> None:
    assert index_text("猫").split() == ["猫"]
    assert index_text("로켓 발사가").split() == ["로켓", "발사", "사가"]


def test_accents_of_latin_letters_are_folded() -> None:
    assert fold_accents("El cohete se retrasó; Über, ÇA, Ñandú, Việt") == (
        "El cohete se retraso; Uber, CA, Nandu, Viet"
    )
    assert fold_accents("Straße, Ærø") == "Straße, Ærø"  # no base letter to fold to


def test_other_scripts_keep_their_marks() -> None:
    # A kana's voicing mark and a Cyrillic breve make another word: kept.
    assert fold_accents("がっこう й") == "がっこう й"
    assert fold_accents("로켓") == "로켓"


def test_postgres_gets_folded_text_with_cjk_pairs() -> None:
    assert tsvector_text("Café 東京タワー").split() == ["Cafe", "東京", "京タ", "タワ", "ワー"]
