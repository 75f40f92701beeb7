"""Validation: decide from the bytes (never the name) whether a file is a video Heimdex accepts."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.errors import InvalidVideo
from heimdex_lab.types import VideoInfo

log = logging.getLogger(__name__)

ACCEPTED = "MP4, MOV, AVI, MKV, WebM"
# PyAV demuxer names of the accepted containers.
_DEMUXERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "avi": "avi"}
_WEBM_VIDEO = {"vp8", "vp9", "av1"}
_WEBM_AUDIO = {"opus", "vorbis"}
# A decodable stream yields a frame within a few packets; a bound keeps a broken file from
# being read to its end just to find that out.
_FIRST_FRAME_MAX_PACKETS = 500


def _describe_non_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_file(path: Path, settings: Settings) -> int:
    """Check what `stat` can tell before a byte is read; return the size in bytes."""
    name = str(path)
    try:
        st = os.stat(path)  # follows symlinks: a link counts as what it points to
    except FileNotFoundError:
        raise InvalidVideo(name, "file not found") from None
    except PermissionError:
        raise InvalidVideo(name, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise InvalidVideo(name, f"cannot read the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidVideo(name, f"not a regular file: it is {_describe_non_regular(st.st_mode)}")
    if st.st_size == 0:
        raise InvalidVideo(name, "empty file (0 bytes)")
    if st.st_size > settings.max_upload_bytes:
        raise InvalidVideo(
            name,
            f"file is {st.st_size:,} bytes, over the limit of {settings.max_upload_bytes:,} bytes "
            "(HEIMDEX_MAX_UPLOAD_BYTES)",
        )
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InvalidVideo(name, f"cannot read the file: {exc.strerror or exc}") from None
    return st.st_size


def probe(path: Path, settings: Settings) -> VideoInfo:
    """Validate ``path`` and describe it, or raise `InvalidVideo` naming the file and the reason."""
    import av  # heavy: only when a file is actually probed

    size = check_file(path, settings)
    name = str(path)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        # FFmpeg's message repeats the path; its reason alone is what the user needs.
        detail = getattr(exc, "strerror", None) or type(exc).__name__
        raise InvalidVideo(
            name, f"not a video file (no readable media container: {detail})"
        ) from None
    with container:
        demuxer = container.format.name
        if demuxer not in _DEMUXERS:
            raise InvalidVideo(name, f"unsupported container '{demuxer}' (accepted: {ACCEPTED})")
        if not container.streams.video:
            kind = "audio-only file" if container.streams.audio else "no media streams"
            raise InvalidVideo(name, f"no video stream ({kind})")
        vstream = container.streams.video[0]
        ctx = vstream.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width <= 0 or height <= 0:
            raise InvalidVideo(name, "video stream has no picture size")
        fps = float(vstream.average_rate or vstream.guessed_rate or 0.0)
        duration = _duration_s(container, vstream)
        if duration <= 0:
            raise InvalidVideo(name, "zero duration (the video has no length)")
        if duration > settings.max_duration_s:
            raise InvalidVideo(
                name,
                f"video is {duration / 3600:.2f} h long, over the limit of "
                f"{settings.max_duration_s / 3600:.2f} h (HEIMDEX_MAX_DURATION_S)",
            )
        _decode_first_frame(container, vstream, name)
        has_audio = bool(container.streams.audio)
        kind = _DEMUXERS[demuxer]
        if kind == "mp4" and container.metadata.get("major_brand", "").strip() == "qt":
            kind = "mov"
        if kind == "mkv":
            audio_codecs = {s.codec_context.name for s in container.streams.audio}
            if ctx.name in _WEBM_VIDEO and audio_codecs <= _WEBM_AUDIO:
                kind = "webm"
    return VideoInfo(
        path=name,
        container=kind,
        duration_s=round(duration, 3),
        width=width,
        height=height,
        fps=round(fps, 3) if fps else 0.0,
        has_audio=has_audio,
        size_bytes=size,
    )


def _duration_s(container: object, vstream: object) -> float:
    """Container duration, else the stream's; 0.0 when neither says."""
    import av

    assert isinstance(container, av.container.InputContainer)
    assert isinstance(vstream, av.VideoStream)
    if container.duration:
        return container.duration / av.time_base
    if vstream.duration and vstream.time_base:
        return float(vstream.duration * vstream.time_base)
    if vstream.frames and vstream.average_rate:
        return float(vstream.frames / vstream.average_rate)
    return 0.0


def _decode_first_frame(container: object, vstream: object, name: str) -> None:
    import av

    assert isinstance(container, av.container.InputContainer)
    try:
        for n, packet in enumerate(container.demux(vstream)):
            if packet.decode():
                return
            if n >= _FIRST_FRAME_MAX_PACKETS:
                break
    except (av.FFmpegError, ValueError) as exc:
        raise InvalidVideo(name, f"the first video frame cannot be decoded ({exc})") from None
    raise InvalidVideo(name, "the first video frame cannot be decoded (no frame in the stream)")
