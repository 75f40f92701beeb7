"""Browser-playable proxies: which stored files a browser cannot play, and a transcode for those.

The rule is measured, not assumed: Chromium 156 (Debian) was given one file per container and codec
pair and checked for load, seek to t (pixel at t compared with the known picture) and play. It does
not open AVI at all, and it silently plays the sound of an MP4/MOV/MKV whose picture it cannot
decode (HEVC, MPEG-4 Part 2, MPEG-2, MJPEG, ProRes) or shows the picture without the sound of an
AC-3/MP2/ALAC track, with no error event either way; so those get a proxy too.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from heimdex_lab.errors import HeimdexError

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)

# PyAV demuxer names of the containers a browser opens (MP4 and MOV share one demuxer, so do MKV
# and WebM); AVI is missing on purpose.
PLAYABLE_DEMUXERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})
PLAYABLE_VIDEO = frozenset({"h264", "vp8", "vp9", "av1"})
# Chromium also played 10-bit, 4:2:2 and 4:4:4 H.264 (software decoding); hardware decoders and
# other browsers often do not, so only 8-bit 4:2:0 passes through.
PLAYABLE_PIX_FMTS = frozenset({"yuv420p", "yuvj420p"})
PLAYABLE_AUDIO = frozenset({"aac", "mp3", "opus", "vorbis", "flac", "pcm_s16le"})

# A preview, not an archive: the shorter side at most 720 px (720p for landscape video).
PROXY_MAX_SHORT_SIDE = 720
# A keyframe at least every 2 s, so a seek decodes at most 2 s of video before it shows.
PROXY_KEYFRAME_S = 2.0
_AUDIO_RATE = 48_000  # every encoder below takes it (Opus takes nothing else)
_PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class ProxyFormat:
    """A container and the encoders for it, each of which browsers play."""

    ext: str
    muxer: str
    video_codec: str
    audio_codec: str
    video_options: dict[str, str] = field(default_factory=dict)
    muxer_options: dict[str, str] = field(default_factory=dict)


# In order of preference; the first whose encoders this PyAV build has is used. H.264/AAC MP4
# plays in every browser, and `faststart` puts the index first so playback starts before the
# download ends. The WebM formats are for PyAV builds without x264.
FORMATS = (
    ProxyFormat(
        "mp4", "mp4", "libx264", "aac",
        {"preset": "veryfast", "crf": "23"}, {"movflags": "+faststart"},
    ),
    ProxyFormat(
        "webm", "webm", "libvpx-vp9", "libopus",
        {"deadline": "realtime", "cpu-used": "8", "crf": "33", "b": "0"},
    ),
    ProxyFormat(
        "webm", "webm", "libvpx", "libopus",
        {"deadline": "realtime", "cpu-used": "8", "crf": "10", "b": "1M"},
    ),
)  # fmt: skip


@dataclass(frozen=True)
class StreamFacts:
    """What decides playability: the demuxer and the codecs, as PyAV names them."""

    demuxer: str
    video_codec: str
    pix_fmt: str | None
    audio_codecs: tuple[str, ...]


def is_playable(facts: StreamFacts) -> bool:
    """True when a browser plays and seeks in the file as stored (picture and sound)."""
    return (
        facts.demuxer in PLAYABLE_DEMUXERS
        and facts.video_codec in PLAYABLE_VIDEO
        and facts.pix_fmt in PLAYABLE_PIX_FMTS
        and all(codec in PLAYABLE_AUDIO for codec in facts.audio_codecs)
    )


def stream_facts(path: Path) -> StreamFacts:
    """The demuxer and codecs of a stored video; `HeimdexError` naming it when it is unreadable."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise HeimdexError(f"{path}: no video stream")
            video = container.streams.video[0]
            return StreamFacts(
                demuxer=container.format.name,
                video_codec=video.codec_context.codec.canonical_name,
                pix_fmt=video.codec_context.pix_fmt,
                audio_codecs=tuple(a.codec_context.codec.canonical_name
                                   for a in container.streams.audio),
            )  # fmt: skip
    except (av.FFmpegError, OSError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise HeimdexError(f"{path}: cannot read the stored video: {detail}") from exc


def needs_proxy(path: Path) -> bool:
    """True when the stored video at ``path`` needs a browser-playable copy for the player."""
    return not is_playable(stream_facts(path))


@functools.cache
def proxy_format() -> ProxyFormat:
    """The first format of `FORMATS` this PyAV build can encode."""
    import av

    encoders = set(av.codecs_available)
    for fmt in FORMATS:
        if {fmt.video_codec, fmt.audio_codec} <= encoders:
            return fmt
    wanted = ", ".join(f"{f.video_codec}+{f.audio_codec}" for f in FORMATS)
    raise HeimdexError(
        f"this PyAV build has no encoder for a browser-playable video (looked for {wanted}); "
        "install the PyAV wheel from PyPI, which bundles them"
    )


def proxy_size(
    width: int, height: int, sample_aspect: Fraction | None, max_short_side: int
) -> tuple[int, int]:
    """Square-pixel output size: the display aspect kept, the shorter side capped, both even
    (4:2:0 needs even sizes)."""
    display_width = Fraction(width) * (sample_aspect if sample_aspect else 1)
    scale = min(Fraction(1), max_short_side / min(display_width, Fraction(height)))

    def even(x: Fraction) -> int:
        return max(2, round(x / 2) * 2)

    return even(display_width * scale), even(height * scale)


def make_proxy(
    source: Path,
    target: Path,
    on_progress: Callable[[float], None] | None = None,
    max_short_side: int = PROXY_MAX_SHORT_SIDE,
) -> None:
    """Transcode ``source`` to a browser-playable ``target`` (see `proxy_format`).

    Timestamps are the source's, so a time in seconds is the same instant in both files. The
    first audio stream is kept when there is one. Frames stream through one at a time; the file
    appears under ``target`` only when complete (temp file in the same folder, then rename).
    Raises `HeimdexError` naming ``source`` when it cannot be done.
    """
    import av

    fmt = proxy_format()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _transcode(source, tmp, fmt, max_short_side, on_progress)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except (av.FFmpegError, ValueError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise HeimdexError(f"cannot make a browser-playable copy of {source}: {detail}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _transcode(
    source: Path,
    target: Path,
    fmt: ProxyFormat,
    max_short_side: int,
    on_progress: Callable[[float], None] | None,
) -> None:
    import av

    first = _first_frame(source)
    if first is None:
        raise HeimdexError(f"cannot make a browser-playable copy of {source}: no video frame")
    with (
        av.open(str(source), metadata_errors="ignore") as src,
        av.open(str(target), "w", format=fmt.muxer, options=fmt.muxer_options) as out,
    ):
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        base = vin.time_base
        assert base is not None  # a demuxed stream always has one
        ain = src.streams.audio[0] if src.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        vout = _video_out(out, fmt, vin, first, max_short_side)
        aout = None if ain is None else _audio_out(out, fmt, ain)
        duration = _duration_s(src)
        last_pts: int | None = None
        next_report = 0.0
        for frame in _decoded(src, [vin] if ain is None else [vin, ain], str(source)):
            if isinstance(frame, av.AudioFrame):
                assert aout is not None
                if frame.pts is not None and frame.pts < 0:
                    continue  # encoder priming before the start: nothing a viewer hears
                out.mux(aout.encode(frame))
                continue
            assert isinstance(frame, av.VideoFrame)
            pts = frame.pts
            if pts is None:  # no timestamp: one frame after the last
                pts = 0 if last_pts is None else last_pts + max(1, round(1 / (rate * base)))
            if pts < 0 or (last_pts is not None and pts <= last_pts):
                continue  # a duplicate or out-of-order frame the encoder would refuse
            last_pts = pts
            picture = frame.reformat(width=vout.width, height=vout.height, format="yuv420p")
            picture.pts, picture.time_base = pts, base
            out.mux(vout.encode(picture))
            t = float(pts * base)
            if on_progress is not None and duration and t >= next_report:
                next_report = t + _PROGRESS_EVERY_S
                on_progress(min(t / duration, 1.0))
        if last_pts is None:
            raise HeimdexError(f"cannot make a browser-playable copy of {source}: no video frame")
        out.mux(vout.encode(None))
        if aout is not None:
            out.mux(aout.encode(None))
    if on_progress is not None:
        on_progress(1.0)


def _video_out(
    out: av.container.OutputContainer,
    fmt: ProxyFormat,
    vin: av.VideoStream,
    first: av.VideoFrame,
    max_short_side: int,
) -> av.VideoStream:
    """The proxy's video stream: square pixels, capped size, on the source's clock."""
    import av

    rate = vin.average_rate or vin.guessed_rate or Fraction(25)
    vout = out.add_stream(fmt.video_codec, rate=rate)
    assert isinstance(vout, av.VideoStream)
    vout.width, vout.height = proxy_size(
        first.width, first.height, vin.sample_aspect_ratio, max_short_side
    )
    vout.pix_fmt = "yuv420p"
    assert vin.time_base is not None  # a demuxed stream always has one
    vout.codec_context.time_base = vin.time_base  # the source's clock, exactly
    vout.codec_context.gop_size = max(1, round(float(rate) * PROXY_KEYFRAME_S))
    vout.codec_context.options = dict(fmt.video_options)
    # Frame threads, as the ffmpeg tool uses for x264: more throughput than slice threads.
    vout.codec_context.thread_type = "FRAME"
    if first.rotation:  # a phone's portrait video stays portrait
        vout.set_display_rotation(first.rotation)
    return vout


def _audio_out(
    out: av.container.OutputContainer, fmt: ProxyFormat, ain: av.AudioStream
) -> av.AudioStream:
    """The proxy's audio stream: mono stays mono, anything more becomes stereo."""
    import av

    layout = "mono" if ain.codec_context.channels == 1 else "stereo"
    aout = out.add_stream(fmt.audio_codec, rate=_AUDIO_RATE, layout=layout)
    assert isinstance(aout, av.AudioStream)
    aout.bit_rate = 64_000 if layout == "mono" else 128_000
    return aout


def _decoded(
    src: av.container.InputContainer, streams: list[av.stream.Stream], name: str
) -> Iterator[av.AudioFrame | av.VideoFrame]:
    """Frames of ``streams`` in file order; a packet that fails to decode is skipped and a
    damaged tail ends the file, as FFmpeg itself does."""
    import av

    packets = src.demux(streams)  # ends with an empty packet per stream, which flushes it
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            log.warning(
                "%s: the rest of the file cannot be read (%s); the copy ends here", name, exc
            )
            return
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            log.debug("%s: a packet could not be decoded (%s)", name, exc)
            continue
        for frame in frames:
            assert isinstance(frame, av.AudioFrame | av.VideoFrame)
            yield frame


def _first_frame(path: Path) -> av.VideoFrame | None:
    import av

    with av.open(str(path), metadata_errors="ignore") as src:
        for frame in src.decode(video=0):
            return frame
    return None


def _duration_s(container: av.container.InputContainer) -> float:
    import av

    return container.duration / av.time_base if container.duration else 0.0
