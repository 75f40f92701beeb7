"""Snippets show the on-screen words when only they hold the query's words."""

from __future__ import annotations

from heimdex_lab.search.snippet import SCREEN_LABEL, snippet
from heimdex_lab.types import Scene


def _scene(text: str, screen: str) -> Scene:
    return Scene("v:0", "v", 0, 0.0, 5.0, text, (), screen)


def test_spoken_words_win_the_snippet_when_they_match() -> None:
    scene = _scene("The margin grew this year.", "Operating margin 22 percent")
    assert snippet(scene, "margin") == "The **margin** grew this year."


def test_screen_words_show_when_only_the_screen_holds_them() -> None:
    scene = _scene("As you can see here.", "Quarterly results\nOperating margin 22 percent")
    assert snippet(scene, "operating margin") == (
        SCREEN_LABEL + "Quarterly results · **Operating** **margin** 22 percent"
    )


def test_a_meaning_match_keeps_the_transcript() -> None:
    scene = _scene("Profits went up.", "Quarterly results")
    assert snippet(scene, "earnings improved") == "Profits went up."


def test_a_silent_scene_shows_its_screen_text() -> None:
    assert snippet(_scene("", "Next steps"), "plans") == SCREEN_LABEL + "Next steps"
    assert snippet(_scene("", ""), "plans") == ""
