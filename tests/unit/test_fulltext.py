"""CJK runs are indexed as overlapping character pairs; other scripts as they are."""

from heimdex_lab.store.fulltext import index_text


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
