"""Speech to text with word timestamps (faster-whisper)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from heimdex_lab.config import Settings
from heimdex_lab.embed.registry import locate
from heimdex_lab.errors import ModelUnavailable
from heimdex_lab.media.decode import SPEECH_RATE, audio_windows
from heimdex_lab.types import Segment, Word

log = logging.getLogger(__name__)


@functools.cache
def whisper_model(name: str, compute_type: str, cpu_threads: int) -> object:
    """The process-wide faster-whisper model (loaded on first use)."""
    from faster_whisper import WhisperModel

    target, where = locate("speech", name)
    try:
        model = WhisperModel(
            target, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
        )
    except Exception as exc:  # a missing or broken model directory
        raise ModelUnavailable(f"speech model {name!r} at {target} did not load: {exc}") from exc
    log.info("speech model %s from %s", name, where)
    return model


def transcribe_file(
    path: Path,
    duration_s: float,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
) -> list[Segment]:
    """Segments of a file's speech, window by window (`audio_windows`): memory stays bounded
    for any length; times are the file's. ``duration_s`` scales progress."""
    segments: list[Segment] = []
    total = max(duration_s, 1e-6)
    for offset, audio in audio_windows(path, window_s=settings.audio_window_s):
        length = audio.size / SPEECH_RATE

        def report(fraction: float, offset: float = offset, length: float = length) -> None:
            if on_progress is not None:
                on_progress(min((offset + fraction * length) / total, 1.0))

        segments += [_shifted(s, offset) for s in transcribe(audio, settings, report)]
    return segments


def _shifted(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    return Segment(
        round(segment.start + offset, 3),
        round(segment.end + offset, 3),
        segment.text,
        tuple(Word(round(w.start + offset, 3), round(w.end + offset, 3), w.text)
              for w in segment.words),
    )  # fmt: skip


def transcribe(
    audio: np.ndarray,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
) -> list[Segment]:
    """Segments with word times for 16 kHz mono ``audio``; an empty list for silence or no audio."""
    if audio.size < SPEECH_RATE // 10:
        return []
    from faster_whisper import WhisperModel

    model = whisper_model(
        settings.whisper_model, settings.whisper_compute_type, settings.cpu_threads
    )
    assert isinstance(model, WhisperModel)
    english_only = settings.whisper_model.endswith(".en")
    pieces, info = model.transcribe(
        audio,
        language="en" if english_only else None,
        beam_size=settings.whisper_beam_size,
        word_timestamps=True,
        vad_filter=settings.whisper_vad,
        condition_on_previous_text=False,
    )
    duration = max(float(info.duration), 1e-6)
    segments = []
    for piece in pieces:
        words = tuple(
            Word(round(w.start, 3), round(w.end, 3), w.word.strip())
            for w in (piece.words or ())
            if w.word.strip()
        )
        text = piece.text.strip()
        if text:
            segments.append(Segment(round(piece.start, 3), round(piece.end, 3), text, words))
        if on_progress is not None:
            on_progress(min(piece.end / duration, 1.0))
    return segments
