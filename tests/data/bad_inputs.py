"""Generators of broken and hostile input files for validation tests (no committed binaries)."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def text_as_mp4(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("This is a text file, not a video.\n" * 20)
    return path


def empty(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def truncated_mp4(folder: Path) -> Path:
    """The first 40% of an MP4 whose index (moov) is at the end: the index is missing."""
    data = (SAMPLES / "space_talk.mp4").read_bytes()
    path = folder / "truncated.mp4"
    path.write_bytes(data[: int(len(data) * 0.4)])
    return path


def audio_only(folder: Path) -> Path:
    """An M4A (MP4 container) with a second of tone and no picture."""
    path = folder / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16_000, layout="mono")
        t = np.arange(16_000) / 16_000
        tone = (0.3 * np.sin(2 * math.pi * 440 * t) * 32767).astype(np.int16)
        for i in range(0, len(tone), 1024):
            frame = av.AudioFrame.from_ndarray(
                tone[None, i : i + 1024], format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts = 16_000, i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def garbage_stream(folder: Path) -> Path:
    """An MKV whose H.264 stream holds random bytes: a container that opens, no frame decodes."""
    path = folder / "garbage.mkv"
    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("h264", rate=25)
        stream.width, stream.height = 320, 240
        for i in range(50):
            packet = av.Packet(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
            packet.stream, packet.pts, packet.dts = stream, i, i
            out.mux(packet)
    return path


def gif(folder: Path) -> Path:
    """An animated GIF: a real moving picture, but not an accepted container."""
    from PIL import Image

    path = folder / "anim.mp4"  # the name lies; the bytes decide
    frames = [Image.new("RGB", (32, 32), (i * 20, 0, 0)) for i in range(5)]
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return path
