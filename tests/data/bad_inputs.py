"""Generators of broken and hostile input files for validation tests (no committed binaries)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import io
import math
import os
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

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


def audio_only(folder: Path, cover: bool = False) -> Path:
    """An M4A (MP4 container) with a second of tone and no picture, or with ``cover`` art: a
    PNG in a video stream marked as an attached picture, as podcasts and music carry."""
    path = folder / ("song.m4a" if cover else "voice.m4a")
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16_000, layout="mono")
        if cover:
            _mux_cover(out)
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


def audio_with_cover(folder: Path) -> Path:
    return audio_only(folder, cover=True)


def _mux_cover(out: av.container.OutputContainer) -> None:
    from PIL import Image

    art = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 0)).save(art, "PNG")
    stream = out.add_stream("png")
    stream.width, stream.height, stream.pix_fmt = 64, 64, "rgb24"
    stream.disposition = av.stream.Disposition.attached_pic
    packet = av.Packet(art.getvalue())
    packet.stream, packet.pts, packet.dts, packet.is_keyframe = stream, 0, 0, True
    out.mux(packet)


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


# Videos made frame by frame ------------------------------------------------------------------
# Pictures are flat colours (tiny files, fast to encode); a change of colour is a cut when the
# two differ enough in hue or brightness for the content detector (yellow to red does not).

RED, BLUE, GREEN, YELLOW = (220, 30, 30), (30, 60, 220), (30, 200, 60), (230, 220, 40)
DARK = (25, 25, 25)
Colour = tuple[int, int, int]


def _picture(width: int, height: int, top: Colour, bottom: Colour | None = None) -> np.ndarray:
    """An RGB picture, ``top`` colour above ``bottom`` (an upright picture has a known top)."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[: max(height // 2, 1)] = top
    image[height // 2 :] = bottom or top
    return image


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek, like the pipe a live recorder writes to."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._file.write(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def _write_video(
    path: Path,
    fmt: str,
    pictures: list[tuple[float, np.ndarray]],
    end: float,
    *,
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    tone: bool = False,
    live: bool = False,
) -> Path:
    """H.264 video of ``(time, picture)`` pairs, each shown until the next (the last until
    ``end``), with packet durations set so the container's duration is exactly ``end``.

    Times are in milliseconds on the stream (irregular times make a variable frame rate);
    ``rotation`` is a display matrix (counter-clockwise degrees, as a phone writes it);
    ``tone`` adds an AAC track of a 440 Hz tone as long as the video; ``live`` writes as a
    live recorder does, never seeking back (see `live_mkv`).
    """
    from fractions import Fraction

    ms = Fraction(1, 1000)
    height, width = pictures[0][1].shape[:2]
    starts = [round(t * 1000) for t, _ in pictures]
    lasts = dict(zip(starts, [*starts[1:], round(end * 1000)], strict=True))
    with (
        _Pipe(path) if live else contextlib.nullcontext(str(path)) as target,
        av.open(target, "w", format=fmt) as out,
    ):
        video = out.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "35"})
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = ms
        if rotation:
            video.set_display_rotation(rotation)
        audio = out.add_stream("aac", rate=_TONE_RATE, layout="mono") if tone else None
        converted: dict[int, av.VideoFrame] = {}  # a picture shown again is converted once
        for start, (_, picture) in zip(starts, pictures, strict=True):
            frame = converted.get(id(picture))
            if frame is None:
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format=pix_fmt)
                converted[id(picture)] = frame
            frame.pts, frame.time_base = start, ms
            for packet in video.encode(frame):
                packet.duration = lasts[packet.pts] - packet.pts
                out.mux(packet)
        for packet in video.encode(None):
            packet.duration = lasts[packet.pts] - packet.pts
            out.mux(packet)
        if audio is not None:
            _mux_tone(out, audio, end)
    return path


_TONE_RATE = 16_000


def _mux_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    rate = _TONE_RATE
    t = np.arange(round(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * math.pi * 440 * t) * 32767).astype(np.int16)
    for i in range(0, len(samples), 1024):
        frame = av.AudioFrame.from_ndarray(samples[None, i : i + 1024], format="s16", layout="mono")
        frame.sample_rate, frame.pts = rate, i
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def _shots(
    path: Path, fmt: str, colours: list[Colour], shot_s: float, fps: int = 25, **options: Any
) -> Path:
    """One shot of each colour, ``shot_s`` seconds each, at a constant ``fps``."""
    per_shot = round(shot_s * fps)
    shown = [_picture(160, 90, colour) for colour in colours]
    pictures = [
        ((n * per_shot + i) / fps, picture)
        for n, picture in enumerate(shown)
        for i in range(per_shot)
    ]
    return _write_video(path, fmt, pictures, len(colours) * per_shot / fps, **options)


def no_audio(folder: Path) -> Path:
    """Two 1 s shots (cut at 1.0 s), no audio track."""
    return _shots(folder / "silent.mp4", "mp4", [RED, BLUE], 1.0)


def one_pixel(folder: Path) -> Path:
    """A 1x1 px picture, two 1 s shots (4:4:4 chroma: 4:2:0 needs even sizes)."""
    red, green = _picture(1, 1, RED), _picture(1, 1, GREEN)
    pictures = [(i / 25, red if i < 25 else green) for i in range(50)]
    return _write_video(folder / "one_pixel.mkv", "matroska", pictures, 2.0, pix_fmt="yuv444p")


def eight_k(folder: Path) -> Path:
    """A real 7680x4320 stream: three frames at 4 fps (0.75 s)."""
    yellow = _picture(7680, 4320, YELLOW)
    pictures = [(i / 4, yellow) for i in range(3)]
    return _write_video(folder / "eight_k.mp4", "mp4", pictures, 0.75)


VFR_CUT_S, VFR_END_S = 1.0, 3.0


def variable_frame_rate(folder: Path) -> Path:
    """50 frames in the first second (a red shot), then 10 in the next two (a blue shot).

    A clock that counts frames at any single rate puts the cut or the end in the wrong place:
    the average rate is 20 fps (cut at 2.5 s), the first shot's rate 50 fps (end at 1.2 s).
    """
    red, blue = _picture(160, 90, RED), _picture(160, 90, BLUE)
    fast = [(i * 0.02, red) for i in range(50)]
    slow = [(VFR_CUT_S + i * 0.2, blue) for i in range(10)]
    return _write_video(folder / "vfr.mkv", "matroska", fast + slow, VFR_END_S)


def rotated_phone(folder: Path) -> Path:
    """A portrait phone video: coded 128x72 (landscape) with a display matrix turning it 90°
    clockwise, as phones record. Shown upright it is 72x128, red at the top, blue below."""
    upright = _picture(72, 128, RED, BLUE)
    coded = np.ascontiguousarray(np.rot90(upright, k=1))  # the sensor's view: turned left
    pictures = [(i / 25, coded) for i in range(25)]
    return _write_video(folder / "portrait.mp4", "mp4", pictures, 1.0, rotation=-90)


def very_short(folder: Path) -> Path:
    """0.4 s (10 frames) with a tone: shorter than the minimum scene length."""
    green = _picture(160, 90, GREEN)
    pictures = [(i / 25, green) for i in range(10)]
    return _write_video(folder / "blink.mp4", "mp4", pictures, 0.4, tone=True)


def odd_file_name(folder: Path) -> Path:
    """A valid video whose name on disk has spaces, unicode and a newline."""
    return _shots(folder / " holiday ünïcødé 日本\nday two .mp4", "mp4", [DARK, YELLOW], 1.0)


DOTDOT_NAME = "../../../etc/cron.d/evil\tname.mp4"


def upload_with_dotdot_name(folder: Path) -> Path:
    """A valid upload stored under a name of ours; the user's name is `DOTDOT_NAME`."""
    return _shots(folder / "3f2a9c.upload", "mp4", [GREEN, DARK], 1.0)


def directory(folder: Path) -> Path:
    """A directory whose name looks like a video."""
    path = folder / "clips.mp4"
    path.mkdir()
    return path


def unreadable(folder: Path) -> Path:
    """A valid video with mode 000. Root ignores the mode: see `without_permission_override`."""
    path = _shots(folder / "locked.mp4", "mp4", [DARK, RED], 1.0)
    path.chmod(0)
    return path


def over_size_limit(folder: Path, limit: int) -> Path:
    """A valid MP4 header followed by zeros up to ``limit + 1`` bytes: a sparse file, so it
    takes almost no disk, but `stat` reports the full size."""
    path = _shots(folder / "huge.mp4", "mp4", [DARK, BLUE], 1.0)
    os.truncate(path, limit + 1)
    return path


def truncated_mkv(folder: Path) -> Path:
    """The first 40% of a Matroska file: its header declares 14 s, the data ends near 5 s
    (an interrupted download; the index (Cues) at the end is gone too)."""
    data = (SAMPLES / "kitchen_cat.mkv").read_bytes()
    path = folder / "truncated.mkv"
    path.write_bytes(data[: int(len(data) * 0.4)])
    return path


def live_mkv(folder: Path) -> Path:
    """Two 1 s shots in Matroska written as a live recorder writes it (OBS, a camera stream):
    without seeking back, so the header has no duration and there is no index (Cues)."""
    path = folder / "recording.mkv"
    red, blue = _picture(160, 90, RED), _picture(160, 90, BLUE)
    pictures = [(i / 25, red if i < 25 else blue) for i in range(50)]
    return _write_video(path, "matroska", pictures, 2.0, live=True)


HUGE_CLAIM_S = 3 * 3600.0  # under the 4 h limit: only the data can tell the header lies


def huge_duration_mkv(folder: Path) -> Path:
    """A 2 s Matroska file whose header (Segment Info ▸ Duration) claims 3 h.

    The Duration element is ID 0x4489, size 8 (0x88), a big-endian float64 in milliseconds
    (the default TimestampScale of 1 ms); the muxer writes it once, near the start.
    """
    path = _shots(folder / "claims_3h.mkv", "matroska", [DARK, GREEN], 1.0)
    data = bytearray(path.read_bytes())
    at = data.index(b"\x44\x89\x88") + 3
    data[at : at + 8] = struct.pack(">d", HUGE_CLAIM_S * 1000)
    path.write_bytes(bytes(data))
    return path


SHORT_CLAIM_S = 0.033  # one frame: what a header left by an interrupted recording can say
TALK_S, TALK_FPS = 4.0, 30
TALK_SENTENCE = "The library opens again next Monday morning."


def short_duration_mkv(folder: Path) -> Path:
    """A 4 s talking head (a portrait photo, slowly zooming, 120 frames of H.264 at 30 fps)
    with a spoken sentence (espeak-ng, AAC), in Matroska whose header (Segment Info ▸
    Duration) says 0.033 s: a stale header, as an interrupted recording or a naive remuxer
    leaves it. The data is whole; only the header is wrong."""
    samples = _make_samples()
    path = folder / "talking_head.mkv"
    photo = samples._photo("grace_hopper")
    with tempfile.TemporaryDirectory() as tmp:
        speech = samples.speak(TALK_SENTENCE, Path(tmp))
    rate = samples.AUDIO_RATE
    audio = np.zeros(round(TALK_S * rate), dtype=np.int16)
    lead_in = round(0.3 * rate)
    assert lead_in + len(speech) < len(audio), "the sentence is longer than the video"
    audio[lead_in : lead_in + len(speech)] = speech
    frames = round(TALK_S * TALK_FPS)
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream(
            "libx264", rate=TALK_FPS, options={"preset": "ultrafast", "crf": "35"}
        )
        video.width, video.height, video.pix_fmt = *samples.SIZE, "yuv420p"
        sound = out.add_stream("aac", rate=rate, layout="mono")
        at = 0  # audio samples muxed so far: kept alongside the video they belong to
        for i in range(frames):
            picture = samples._frame(photo, i / (frames - 1), focus=0.35)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            while at < min(len(audio), (i + 1) * rate // TALK_FPS):
                piece = audio[at : at + 1024]
                chunk = av.AudioFrame.from_ndarray(piece[None, :], format="s16", layout="mono")
                chunk.sample_rate, chunk.pts = rate, at
                out.mux(sound.encode(chunk))
                at += len(piece)
        out.mux(video.encode(None))
        out.mux(sound.encode(None))
    data = bytearray(path.read_bytes())
    at = data.index(b"\x44\x89\x88") + 3  # Duration: ID 0x4489, 8 bytes, float64 in ms
    data[at : at + 8] = struct.pack(">d", SHORT_CLAIM_S * 1000)
    path.write_bytes(bytes(data))
    return path


@functools.cache
def _make_samples() -> ModuleType:
    """``data/make_samples.py`` (a script, not a package module): its photos and espeak-ng."""
    name = "make_samples"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SAMPLES.parent / "make_samples.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def huge_duration_mp4(folder: Path) -> Path:
    """A 2 s MP4 whose movie, track and media headers (mvhd, tkhd, mdhd) claim 3 h.

    Only the per-sample table (stts) still says 2 s; a player trusts it, and so must we.
    """
    path = _shots(folder / "claims_3h.mp4", "mp4", [YELLOW, BLUE], 1.0)
    data = bytearray(path.read_bytes())
    movie_scale = 1000
    for kind, start in _mp4_boxes(data):
        if kind == "mvhd":  # version 0: flags, created, modified, timescale, duration (u32 each)
            movie_scale = struct.unpack_from(">I", data, start + 12)[0]
            struct.pack_into(">I", data, start + 16, int(HUGE_CLAIM_S * movie_scale))
        elif kind == "tkhd":  # flags, created, modified, track id, reserved, duration
            struct.pack_into(">I", data, start + 20, int(HUGE_CLAIM_S * movie_scale))
        elif kind == "mdhd":  # flags, created, modified, timescale, duration
            scale = struct.unpack_from(">I", data, start + 12)[0]
            struct.pack_into(">I", data, start + 16, int(HUGE_CLAIM_S * scale))
    path.write_bytes(bytes(data))
    return path


def size_lie_mp4(folder: Path) -> Path:
    """A 160x90 H.264 stream whose MP4 headers (tkhd, and the avc1 sample entry) claim
    7680x4320. The bitstream (its SPS) holds the true size; the decoder uses that."""
    path = _shots(folder / "claims_8k.mp4", "mp4", [BLUE, YELLOW], 1.0)
    data = bytearray(path.read_bytes())
    for kind, start in _mp4_boxes(data):
        if kind == "tkhd":  # width, height: the last 8 bytes, 16.16 fixed point
            struct.pack_into(">II", data, start + 76, 7680 << 16, 4320 << 16)
        elif kind == "avc1":  # 6 reserved, data ref, 16 predefined/reserved, then u16 w, h
            struct.pack_into(">HH", data, start + 24, 7680, 4320)
    path.write_bytes(bytes(data))
    return path


_MP4_PARENTS = {"moov", "trak", "mdia", "minf", "stbl"}


def _mp4_boxes(data: bytearray, start: int = 0, end: int | None = None) -> list[tuple[str, int]]:
    """(type, offset of the payload) of the boxes on the path to the sample entries."""
    end = len(data) if end is None else end
    found: list[tuple[str, int]] = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        name = kind.decode("latin-1")
        found.append((name, at + header))
        if name in _MP4_PARENTS:
            found += _mp4_boxes(data, at + header, at + size)
        elif name == "stsd":  # version/flags and an entry count precede the entries
            found += _mp4_boxes(data, at + header + 8, at + size)
        at += size
    return found


# Reading as root ----------------------------------------------------------------------------

_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2
_CAP_VERSION_3 = 0x20080522


@contextlib.contextmanager
def without_permission_override() -> Iterator[None]:
    """Let file modes apply to this thread even as root (tests run as root in CI).

    Root reads a mode-000 file because of two capabilities, CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH. Clearing them from this thread's effective set makes `open` fail with
    EACCES exactly as it does for an ordinary user; they stay in the permitted set and are
    restored on exit. Capabilities belong to a thread: other threads keep theirs, and a thread
    started inside the block inherits the lowered set for good, so start none there. A no-op
    for an ordinary user.
    """
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header, saved = Header(_CAP_VERSION_3, 0), (Data * 2)()
    if libc.capget(ctypes.byref(header), saved) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    lowered = (Data * 2)(*[Data(d.effective, d.permitted, d.inheritable) for d in saved])
    lowered[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(header), lowered) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    try:
        yield
    finally:
        if libc.capset(ctypes.byref(header), saved) != 0:
            raise OSError(ctypes.get_errno(), "capset (restore) failed")
