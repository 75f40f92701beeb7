"""Speech of any length in bounded memory: windows cut in pauses, times kept on the file's clock."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from heimdex_lab import Settings
from heimdex_lab.ingest.transcript import transcribe_file
from heimdex_lab.media.decode import SPEECH_RATE, audio_windows, decode_audio, quietest_cut

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_a_cut_falls_in_the_pause_not_in_a_word() -> None:
    t = np.arange(10 * SPEECH_RATE) / SPEECH_RATE
    speech = (0.5 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    speech[int(7.2 * SPEECH_RATE) : int(7.6 * SPEECH_RATE)] = 0  # a pause at 7.2-7.6 s
    cut = quietest_cut(speech, SPEECH_RATE, search_s=5.0)
    assert 7.2 <= cut / SPEECH_RATE <= 7.6


def test_windows_are_bounded_and_lose_no_sample() -> None:
    path = SAMPLES / "space_talk.mp4"
    whole = decode_audio(path)
    windows = list(audio_windows(path, window_s=4.0, search_s=2.0))
    assert len(windows) >= 4
    assert all(w.size <= 4.0 * SPEECH_RATE for _, w in windows)
    assert np.array_equal(np.concatenate([w for _, w in windows]), whole)
    starts = [start for start, _ in windows]
    sizes = [w.size / SPEECH_RATE for _, w in windows]
    assert starts == pytest.approx([0.0, *np.cumsum(sizes)[:-1].tolist()])


def test_windowed_transcript_keeps_every_sentence_on_the_file_clock(samples: dict) -> None:
    """6 s windows on a 15 s file: cuts fall in the pauses between its three sentences, and
    each sentence's words come back once, at the times they are spoken in the file."""
    path = SAMPLES / "space_talk.mp4"
    segments = transcribe_file(path, 15.0, Settings(audio_window_s=6.0)).segments
    words = [(re.sub(r"\W", "", w.text.lower()), w.start) for s in segments for w in s.words]
    starts = [start for _, start in words]
    assert starts == sorted(starts)
    spoken = samples["space_talk.mp4"]["sentences"]
    for keyword, sentence in zip(("launch", "orbit", "galaxies"), spoken, strict=True):
        found = [start for word, start in words if word == keyword]
        assert len(found) == 1, (keyword, words)
        assert sentence["start"] - 0.3 < found[0] < sentence["end"], (keyword, found, sentence)
