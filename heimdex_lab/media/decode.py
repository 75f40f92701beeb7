"""Decoding: 16 kHz mono audio for speech, and frames at chosen times for keyframes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

SPEECH_RATE = 16_000


def decode_audio(path: Path, rate: int = SPEECH_RATE) -> np.ndarray:
    """The first audio stream as mono float32 in [-1, 1] at ``rate`` Hz; empty if there is none."""
    import av

    chunks: list[np.ndarray] = []
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler keep its own clock across gaps
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError:
            # A damaged tail: keep what decoded; the transcript covers the readable part.
            pass
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    # int16 while collecting halves the peak memory of a long file.
    return np.concatenate(chunks).astype(np.float32) / 32768.0


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
        stream = container.streams.video[0]
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
            image = last.to_image()
            image.thumbnail((max_side, max_side))
            yield t, image
