"""Validation: decide from the bytes (never the name) whether a file is a video Heimdex accepts."""

from __future__ import annotations

import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.errors import InvalidVideo
from heimdex_lab.media.decode import main_video_stream, quarter_turns
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
# A header may promise more than the file holds (a cut-off download, a forged duration). The
# packets are the truth; within this margin the two agree (the length of the last frame is not
# always stored, and a slideshow's last frame can be long).
_DATA_SHORTFALL_S = 2.0
# The reverse: a header that says less than the data holds is stale (an interrupted recording
# that never wrote its final length, a remuxer that copied the old one), and the data's length
# is used. Within this margin the two agree (muxers count a last audio frame differently).
_HEADER_SHORTFALL_S = 0.25
# Top-level boxes of an MP4 read to tell a missing index from other garbage (real files have <10).
_MP4_TOP_BOXES = 64


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
    except OSError as exc:
        raise InvalidVideo(name, _cannot_read(exc)) from None
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
        raise InvalidVideo(name, _cannot_read(exc)) from None
    return st.st_size


def _cannot_read(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot read the file: permission denied (check the file's permissions)"
    return f"cannot read the file: {exc.strerror or exc}"


def probe(path: Path, settings: Settings) -> VideoInfo:
    """Validate ``path`` and describe it, or raise `InvalidVideo` naming the file and the reason."""
    import av  # heavy: only when a file is actually probed

    size = check_file(path, settings)
    name = str(path)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if _mp4_without_index(path):
            raise InvalidVideo(
                name,
                "not a video file (truncated MP4/MOV: the index (moov box) is missing, so "
                "nothing in it can be played; the upload or recording did not finish)",
            ) from None
        # FFmpeg's message repeats the path; its reason alone is what the user needs.
        detail = getattr(exc, "strerror", None) or type(exc).__name__
        raise InvalidVideo(
            name, f"not a video file (no readable media container: {detail})"
        ) from None
    with container:
        demuxer = container.format.name
        if demuxer not in _DEMUXERS:
            raise InvalidVideo(name, f"unsupported container '{demuxer}' (accepted: {ACCEPTED})")
        vstream = main_video_stream(container)
        if vstream is None:
            if container.streams.video:  # an M4A of a podcast or song with its artwork
                kind = "audio-only file: its one picture is cover art"
            else:
                kind = "audio-only file" if container.streams.audio else "no media streams"
            raise InvalidVideo(name, f"no video stream ({kind})")
        ctx = vstream.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width <= 0 or height <= 0:
            raise InvalidVideo(name, "video stream has no picture size")
        fps = float(vstream.average_rate or vstream.guessed_rate or 0.0)
        declared = _declared_duration_s(container, vstream)
        _check_duration(name, declared, settings)  # before reading a long file to its end
        scan = _scan(container, vstream, name)
        if declared - scan.data_s > _DATA_SHORTFALL_S:
            raise InvalidVideo(
                name,
                f"truncated or damaged file: the data ends at {_length(scan.data_s)} but the "
                f"header says {_length(declared)} (an interrupted download or recording? "
                "copy or export it again)",
            )
        # A file whose header is silent (a live recording cut off) is as long as its data.
        duration = declared or scan.data_s
        if declared and scan.data_s - declared > _HEADER_SHORTFALL_S:
            log.warning(
                "%s: the header says the video is %s long but its data runs to %s; using %s "
                "(a stale header: an interrupted recording or a remuxer that did not update it)",
                name, _length(declared), _length(scan.data_s), _length(scan.data_s),
            )  # fmt: skip
            duration = scan.data_s
        if duration <= 0:
            raise InvalidVideo(name, "zero duration (the video has no length)")
        _check_duration(name, duration, settings)
        if scan.quarter_turns % 2:  # a phone held upright: shown (and stored) as it was seen
            width, height = height, width
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
        header_duration_s=round(declared, 3) if declared else None,
        stream_duration_s=round(scan.data_s, 3),
    )


def _check_duration(name: str, duration: float, settings: Settings) -> None:
    if duration > settings.max_duration_s:
        raise InvalidVideo(
            name,
            f"video is {duration / 3600:.2f} h long, over the limit of "
            f"{settings.max_duration_s / 3600:.2f} h (HEIMDEX_MAX_DURATION_S)",
        )


def _declared_duration_s(container: object, vstream: object) -> float:
    """What the headers say: the container's duration, else the stream's; 0.0 if neither does."""
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


@dataclass(frozen=True)
class _Scan:
    data_s: float  # from the start to the end of the last readable packet, any stream
    quarter_turns: int  # counter-clockwise turns of 90 degrees that show the picture upright


def _scan(container: object, vstream: object, name: str) -> _Scan:
    """Read every packet (without decoding) to learn where the data really ends, decoding the
    first video frame on the way; raise `InvalidVideo` if that frame cannot be decoded.

    Demuxing is cheap next to what ingest does anyway (hashing reads every byte, scene
    detection decodes every frame), and it is the only way to catch a header that lies.
    """
    import av

    assert isinstance(container, av.container.InputContainer)
    assert isinstance(vstream, av.VideoStream)
    start = container.start_time / av.time_base if container.start_time else 0.0
    end = start
    first: object | None = None
    video_packets = 0
    try:
        for packet in container.demux():
            end = max(end, _packet_end_s(packet) or end)
            if first is None and packet.stream.index == vstream.index and packet.size:
                video_packets += 1
                first = next(iter(packet.decode()), None)
                if first is None and video_packets >= _FIRST_FRAME_MAX_PACKETS:
                    break
        if first is None:  # frames a decoder still holds
            first = next(iter(vstream.codec_context.decode(None)), None)
    except (av.FFmpegError, ValueError) as exc:
        if first is None:
            raise InvalidVideo(name, f"the first video frame cannot be decoded ({exc})") from None
        # Damaged data after the first frame: the readable part ends here.
        log.info("%s: data unreadable after %.2f s: %s", name, end - start, exc)
    if not isinstance(first, av.VideoFrame):
        raise InvalidVideo(name, "the first video frame cannot be decoded (no frame in the stream)")
    return _Scan(data_s=max(end - start, 0.0), quarter_turns=quarter_turns(first))


def video_end_s(path: Path) -> float:
    """Where the video stream's data ends, in seconds from the file's start, read from its
    packets alone (nothing is decoded; cheap next to any ingest stage): what scenes must
    reach, whatever the header says. Raises `InvalidVideo` if the file cannot be read."""
    import av

    name = str(path)
    try:
        container = av.open(name, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise InvalidVideo(name, f"cannot be read ({exc})") from None
    with container:
        vstream = main_video_stream(container)
        if vstream is None:
            raise InvalidVideo(name, "no video stream")
        start = container.start_time / av.time_base if container.start_time else 0.0
        end = start
        try:
            for packet in container.demux(vstream):
                end = max(end, _packet_end_s(packet) or end)
        except (av.FFmpegError, ValueError) as exc:  # a damaged tail: the readable part counts
            log.info("%s: data unreadable after %.2f s: %s", name, end - start, exc)
    return max(end - start, 0.0)


def _packet_end_s(packet: object) -> float | None:
    """Where a packet's data ends on the file's clock (None: it carries no time)."""
    import av

    assert isinstance(packet, av.Packet)
    ts = packet.pts if packet.pts is not None else packet.dts
    if ts is None or not packet.time_base:
        return None
    return float((ts + (packet.duration or 0)) * packet.time_base)


def _length(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _mp4_without_index(path: Path) -> bool:
    """True for an MP4/MOV file (it starts with an ``ftyp`` box) with no ``moov`` box: the
    index is written last, so a copy cut short has the pictures but nothing to play them by."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            at = 0
            for n in range(_MP4_TOP_BOXES):
                fh.seek(at)
                header = fh.read(16)
                if len(header) < 8:
                    break
                box_size, kind = struct.unpack(">I4s", header[:8])
                if (n == 0 and kind != b"ftyp") or kind == b"moov":
                    return False
                if box_size == 1 and len(header) == 16:
                    box_size = struct.unpack(">Q", header[8:])[0]
                if box_size < 8 or at + box_size >= size:
                    break  # the last box (size 0 means "to the end of the file")
                at += box_size
    except OSError:
        return False
    return True
