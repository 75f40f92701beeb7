"""Which languages spoken-language detection picks among (`language_tiers`)."""

from __future__ import annotations

from heimdex_lab.ingest.transcript import COMMON_LANGUAGES, SPOKEN_LANGUAGES, language_tiers


def test_by_default_detection_leaves_out_latin_and_narrows_to_common_languages_when_unsure() -> (
    None
):
    assert language_tiers("") == [SPOKEN_LANGUAGES, COMMON_LANGUAGES]
    assert len(SPOKEN_LANGUAGES) == 57 and COMMON_LANGUAGES < SPOKEN_LANGUAGES
    # Languages videos are recorded in stay; classical and barely trained ones do not.
    assert {"en", "es", "pt", "nl", "de", "ru", "zh", "ja", "ko", "cy", "hi"} <= SPOKEN_LANGUAGES
    assert not {"la", "sa", "haw", "yi", "jw", "nn"} & SPOKEN_LANGUAGES
    assert {"en", "es", "pt", "nl", "de", "fr", "it", "ru", "zh", "ja", "ko"} <= COMMON_LANGUAGES
    assert not {"cy", "hu", "lv", "af", "el"} & COMMON_LANGUAGES


def test_a_list_keeps_detection_to_it_and_all_widens_it_to_every_language() -> None:
    assert language_tiers(" PT, la ,") == [{"pt", "la"}]
    assert language_tiers("all") == [None]
    assert language_tiers(" ALL ") == [None]
