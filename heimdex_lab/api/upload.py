"""A multipart upload streamed to disk: size and type are checked while the body arrives.

Starlette's ``request.form()`` reads the whole body before a handler can look at it; here the
``file`` part goes chunk by chunk into a file of ours, hashed on the way, and the request is
refused as soon as the bytes say it is too big or not a video container.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

# The container signatures accepted (MP4/MOV, AVI, Matroska/WebM; docs/architecture.md §7); probe
# decides later.
_SNIFF_BYTES = 12
FORM_FIELD = "file"


class UploadRefused(Exception):
    """The body cannot become a video: ``status`` and a message naming the file."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def looks_like_video(head: bytes) -> bool:
    """MP4/MOV (an ISO box at offset 4), AVI (RIFF…AVI) or Matroska/WebM (EBML)."""
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    return head[:4] == b"\x1a\x45\xdf\xa3"


@dataclass
class ReceivedFile:
    filename: str
    path: Path
    size: int
    sha256: str


class _FilePart:
    """Collects the ``file`` part of a multipart body into ``target``."""

    def __init__(self, target: Path, limit: int) -> None:
        self.target, self.limit = target, limit
        self.filename: str | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self._head = b""
        self._out: Any = None
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False

    # MultipartParser callbacks ----------------------------------------------------------------

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._in_file = options.get(b"name") == FORM_FIELD.encode() and self.filename is None
        if self._in_file:
            raw = options.get(b"filename", b"")
            self.filename = raw.decode("utf-8", "replace") or "upload"
            self._out = self.target.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            raise UploadRefused(
                413, "too_large",
                f"{self.filename}: over the upload limit of {self.limit:,} bytes",
            )  # fmt: skip
        if len(self._head) < _SNIFF_BYTES:
            self._head += chunk[: _SNIFF_BYTES - len(self._head)]
            if len(self._head) >= _SNIFF_BYTES and not looks_like_video(self._head):
                raise UploadRefused(
                    415, "not_a_video",
                    f"{self.filename}: not a video file (accepted: MP4, MOV, AVI, MKV, WebM)",
                )  # fmt: skip
        self.digest.update(chunk)
        self._out.write(chunk)

    def on_part_end(self) -> None:
        if self._in_file and self._out is not None:
            self._out.close()
            self._out = None
        self._in_file = False

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_file(
    stream: AsyncIterator[bytes], content_type: str, target: Path, limit: int
) -> ReceivedFile:
    """Write the multipart ``file`` field of ``stream`` to ``target``; raise UploadRefused.

    ``target`` is removed on any refusal or error, so nothing half-received is left behind.
    """
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(
            415, "bad_content_type",
            f"send the video as multipart/form-data with the field {FORM_FIELD!r}",
        )  # fmt: skip
    part = _FilePart(target, limit)
    parser = MultipartParser(boundary, _callbacks(part))  # type: ignore[arg-type]
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except BaseException as exc:
        part.close()
        target.unlink(missing_ok=True)
        if isinstance(exc, MultipartParseError):
            raise UploadRefused(400, "bad_request", f"invalid multipart body: {exc}") from None
        raise
    finally:
        part.close()
    if part.filename is None:
        target.unlink(missing_ok=True)
        raise UploadRefused(422, "no_file", f"the form has no {FORM_FIELD!r} field with a file")
    if part.size == 0:
        target.unlink(missing_ok=True)
        raise UploadRefused(422, "empty_file", f"{part.filename}: empty file (0 bytes)")
    if len(part._head) < _SNIFF_BYTES:
        target.unlink(missing_ok=True)
        raise UploadRefused(415, "not_a_video", f"{part.filename}: not a video file (too short)")
    return ReceivedFile(part.filename, target, part.size, part.digest.hexdigest())


def _callbacks(part: _FilePart) -> dict[str, Any]:
    names = ("on_part_begin", "on_header_field", "on_header_value", "on_header_end",
             "on_headers_finished", "on_part_data", "on_part_end")  # fmt: skip
    return {name: getattr(part, name) for name in names}
