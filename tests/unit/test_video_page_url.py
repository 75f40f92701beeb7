"""The video page's URL: ``?video=ID&t=SECONDS&q=QUERY`` and how the app reads it back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from heimdex_lab.ui.video_page import requested_video, video_page_url


def test_the_video_page_url_round_trips_through_the_session_arguments() -> None:
    url = video_page_url("872133b2b4c2f4ac", 5.04, "going into orbit & back")
    assert url == "./?video=872133b2b4c2f4ac&t=5.04&q=going+into+orbit+%26+back"
    args = {k: [v.encode() for v in vs] for k, vs in parse_qs(urlsplit(url).query).items()}
    assert requested_video(args) == ("872133b2b4c2f4ac", 5.04, "going into orbit & back")
    assert video_page_url("abc") == "./?video=abc"


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        ({}, None),
        ({"video": [b""]}, None),
        ({"video": [b"abc"], "t": [b"soon"]}, ("abc", 0.0, "")),
        ({"video": [b"abc"], "t": [b"-4"]}, ("abc", 0.0, "")),
        ({"video": [b"abc"], "t": [b"nan"]}, ("abc", 0.0, "")),
        ({"video": [b"abc"], "t": [b"inf"]}, ("abc", 0.0, "")),
        ({"video": [b"abc"], "t": [b"12.5"], "q": [b"  cat "]}, ("abc", 12.5, "cat")),
    ],
)
def test_a_page_url_with_a_bad_start_opens_the_video_at_zero(
    args: dict[str, list[bytes]], wanted: tuple[str, float, str] | None
) -> None:
    assert requested_video(args) == wanted
