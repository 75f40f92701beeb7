"""Decoding: 16 kHz mono audio for speech, and frames at chosen times for keyframes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import av

SPEECH_RATE = 16_000


def decode_audio(path: Path, rate: int = SPEECH_RATE) -> np.ndarray:
    """The first audio stream as mono float32 in [-1, 1] at ``rate`` Hz; empty if there is none.

    The whole track in memory (4 bytes a sample): for long files use `audio_windows`.
    """
    pieces = [w for _, w in audio_windows(path, rate, window_s=float("inf"))]
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(pieces)


def _pcm_chunks(path: Path, rate: int) -> Iterator[np.ndarray]:
    """The first audio stream as mono int16 chunks at ``rate`` Hz, as they decode."""
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler keep its own clock across gaps
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1)
        except av.FFmpegError:
            pass  # a damaged tail: keep what decoded; the transcript covers the readable part
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)


def quietest_cut(samples: np.ndarray, rate: int, search_s: float, step_s: float = 0.1) -> int:
    """An index in the last ``search_s`` seconds of ``samples`` (at most its second half): the
    middle of the longest quiet stretch there (the latest, if several are as long).

    Cutting speech in a pause keeps words whole on both sides, and the middle leaves each
    side some silence, which the speech model expects around an utterance.
    """
    step = max(1, int(step_s * rate))
    first = max(len(samples) // 2, len(samples) - int(search_s * rate))
    n = (len(samples) - first) // step
    if n < 2:
        return len(samples)
    tail = samples[first : first + n * step].astype(np.float32).reshape(n, step)
    level = np.abs(tail).mean(axis=1)
    quiet = level <= level.min() * 2.0 + 1.0  # +1: digital silence is all ties
    best, best_len, run_start = 0, 0, None
    for i, q in enumerate([*quiet.tolist(), False]):
        if q and run_start is None:
            run_start = i
        elif not q and run_start is not None:
            if i - run_start >= best_len:
                best, best_len = run_start, i - run_start
            run_start = None
    return first + int((best + best_len / 2) * step)


def audio_windows(
    path: Path, rate: int = SPEECH_RATE, window_s: float = 600.0, search_s: float = 20.0
) -> Iterator[tuple[float, np.ndarray]]:
    """``(start second, float32 samples)`` windows of at most ``window_s`` seconds, in order.

    Memory stays at one window however long the file is (a 3-hour track is 690 MB as float32).
    Each window ends at the quietest moment of its last ``search_s`` seconds, not mid-word;
    the rest starts the next window.
    """
    limit = window_s * rate
    buffered: list[np.ndarray] = []
    size = 0
    start = 0
    for chunk in _pcm_chunks(path, rate):
        buffered.append(chunk)
        size += len(chunk)
        if size >= limit:
            samples = np.concatenate(buffered)
            cut = quietest_cut(samples[: int(limit)], rate, search_s)
            yield start / rate, samples[:cut].astype(np.float32) / 32768.0
            buffered, size, start = [samples[cut:]], len(samples) - cut, start + cut
    if size:
        yield start / rate, np.concatenate(buffered).astype(np.float32) / 32768.0


def frames_at(
    path: Path, times: Sequence[float], max_side: int
) -> Iterator[tuple[float, Image.Image]]:
    """Yield ``(t, image)`` for each requested time (sorted), the first frame at or after ``t``.

    Seeks to the keyframe before each time and decodes forward, so a few frames per keyframe are
    decoded instead of the whole video.
    """
    import av

    wanted = sorted(times)
    if not wanted:
        return
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = main_video_stream(container)
        if stream is None:
            return
        stream.thread_type = "AUTO"
        base = stream.time_base
        last: av.VideoFrame | None = None
        for t in wanted:
            container.seek(int(t / base) if base else int(t * av.time_base), stream=stream)
            # Past the last frame, the last one decoded is the closest there is.
            for frame in container.decode(stream):
                last = frame
                if frame.time is not None and frame.time + 1e-3 >= t:
                    break
            if last is None:
                continue
            image = upright(last)
            image.thumbnail((max_side, max_side))
            yield t, image


def main_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The first video stream of moving pictures: cover art (an attached picture, as music,
    podcasts and downloaded videos carry) is a video stream too, of one still image."""
    import av

    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


# PIL's turns are counter-clockwise, like a display matrix's rotation.
_QUARTER_TURNS = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}


def upright(frame: av.VideoFrame) -> Image.Image:
    """The frame as a player shows it: turned by its display matrix (a phone held upright
    records landscape pictures and a matrix saying how to turn them)."""
    image = frame.to_image()
    turns = quarter_turns(frame)
    return image.transpose(_QUARTER_TURNS[turns]) if turns else image


def quarter_turns(frame: av.VideoFrame) -> int:
    """Counter-clockwise quarter turns (0-3) that show ``frame`` upright."""
    return round(frame.rotation / 90) % 4
