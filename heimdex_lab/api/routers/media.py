"""``/media/{video_id}``: the stored video for a player, with HTTP range requests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from heimdex_lab.api import auth
from heimdex_lab.api.deps import ApiError, Ctx, user_of
from heimdex_lab.api.models import errors

router = APIRouter(tags=["media"])

MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
               ".webm": "video/webm", ".avi": "video/x-msvideo"}  # fmt: skip
_KINDS = (*MEDIA_TYPES.values(), "application/octet-stream")
_VIDEO: dict[str, Any] = {"content": {kind: {} for kind in _KINDS}}


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {**_VIDEO, "description": "the whole file"},
    206: {**_VIDEO, "description": "the byte range asked for (``Range``)"},
    416: {"description": "the range is outside the file"},
    **errors(401, 403, 404, 422),
}


@router.get("/media/{video_id}", response_class=FileResponse, responses=_ANSWERS)
@router.head("/media/{video_id}", response_class=FileResponse, responses=_ANSWERS,
             operation_id="media_head")  # fmt: skip
def media(request: Request, video_id: str, ctx: Ctx, exp: str | None = None,
          sig: str | None = None) -> FileResponse:  # fmt: skip
    """The stored video (or its browser-playable proxy), with HTTP range requests (206).

    Allowed for its owner (token or sign-in), or anyone holding a preview URL whose
    signature (``exp``, ``sig`` from ``/api/v1/scenes/{id}/preview``) is valid.
    """
    if exp is not None or sig is not None:
        if not auth.media_signature_ok(ctx.secret, video_id, exp, sig):
            raise ApiError(403, "bad_signature", "the preview link is invalid or expired")
        owner = ctx.catalog.video_owner(video_id)
        if owner is None:
            raise ApiError(404, "not_found", f"no video with id {video_id!r}")
    else:
        owner = user_of(request)
    path = ctx.library(owner).media_path(video_id)
    if not path.is_file():
        raise ApiError(404, "not_found", f"the media of video {video_id!r} is missing")
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media_type,
                        headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip
