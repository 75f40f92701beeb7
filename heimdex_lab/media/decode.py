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
