"""``/api/v1/videos``: upload (streamed), list, one video, its status, retry, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from heimdex_lab.api.deps import ApiError, Ctx, Lib, User, rate_limit
from heimdex_lab.api.models import VideoRow, VideoStatus, errors
from heimdex_lab.api.upload import FORM_FIELD, UploadRefused, receive_file
from heimdex_lab.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["videos"], dependencies=[Depends(rate_limit)],
                   responses=errors(401, 429))  # fmt: skip

_BODY_SLACK = 64 * 1024  # multipart headers and boundaries around the file
_ONE_VIDEO = errors(404, 422)

# The upload reads the request stream itself (see `upload.receive_file`), so its body is
# declared here for /docs and clients rather than taken from a parameter.
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FORM_FIELD],
                    "properties": {FORM_FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _queued_row(upload: Any) -> dict[str, Any]:
    return {**upload.to_dict(), "duration_s": None, "scenes": 0}


def _video(ctx: Ctx, lib: Lib, user: str, video_id: str) -> dict[str, Any]:
    """The catalog's row, or the upload's while it waits in the queue (not in the catalog yet)."""
    try:
        return lib.video(video_id).to_dict()
    except NotFound:
        pending = ctx.worker.pending(user, video_id)  # before its catalog row is written
        if pending is None:
            raise
        return _queued_row(pending)


def _not_queued(ctx: Ctx, user: str, video_id: str) -> None:
    """The server's own queue: a video waiting there is busy (the Library sees only leases)."""
    if ctx.worker.pending(user, video_id) is not None:
        raise ApiError(409, "busy", f"video {video_id!r} is already queued or being ingested")


@router.post(
    "/videos", status_code=202, response_model=VideoRow, openapi_extra=_UPLOAD_BODY,
    responses=errors(400, 413, 415, 422, _400="the multipart body is malformed",
                     _422="no file, an empty file, or a file refused at once (``detail``: why)"),
)  # fmt: skip
async def upload_video(request: Request, ctx: Ctx, user: User) -> dict[str, Any]:
    """Upload one video as multipart field ``file``; it is ingested in the background.

    The body is streamed to disk; an over-size body or one that does not start like a
    video container is refused before it is all read. Answers 202 with the ``video_id``
    to poll at ``/api/v1/videos/{video_id}/status``.
    """
    limit_bytes = ctx.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit_bytes + _BODY_SLACK:
        raise ApiError(413, "too_large",
                       f"the body is {int(declared):,} bytes; the upload limit is "
                       f"{limit_bytes:,} bytes")  # fmt: skip
    target = ctx.worker.new_upload_path()
    try:
        received = await receive_file(
            request.stream(), request.headers.get("content-type", ""), target, limit_bytes
        )
    except UploadRefused as exc:
        raise ApiError(exc.status, exc.error, exc.detail) from None
    upload = ctx.worker.submit_file(user, received.filename, received.path, received.sha256)
    if upload.state == "rejected":
        raise ApiError(422, "rejected", upload.error or "rejected")
    return _queued_row(upload)


@router.get("/videos", response_model=list[VideoRow])
def list_videos(ctx: Ctx, lib: Lib, user: User) -> list[dict[str, Any]]:
    """Every video of the caller, oldest first, then uploads still queued."""
    rows = lib.videos().to_dicts()
    known = {r["video_id"] for r in rows}
    for upload in ctx.worker.of(user):
        if upload.state in ("queued", "ingesting") and upload.video_id not in known:
            known.add(upload.video_id)
            rows.append(_queued_row(upload))
    return rows


@router.get("/videos/{video_id}", response_model=VideoRow, responses=_ONE_VIDEO)
def get_video(video_id: str, ctx: Ctx, lib: Lib, user: User) -> dict[str, Any]:
    """One video: file name, state, stage, progress, duration, scenes, error."""
    return _video(ctx, lib, user, video_id)


@router.get("/videos/{video_id}/status", response_model=VideoStatus, responses=_ONE_VIDEO)
def video_status(video_id: str, ctx: Ctx, lib: Lib, user: User) -> dict[str, Any]:
    """State (``queued`` … ``ready`` / ``failed`` / ``rejected``), stage and progress."""
    return _video(ctx, lib, user, video_id)


@router.post("/videos/{video_id}/retry", status_code=202, response_model=VideoRow,
             responses=errors(404, 409, 422))  # fmt: skip
def retry_video(video_id: str, ctx: Ctx, lib: Lib, user: User) -> dict[str, Any]:
    """Resume a failed or interrupted video in the background, from where it stopped."""
    _not_queued(ctx, user, video_id)
    row = lib.resumable(video_id)  # NotResumable: 409 busy, rejected or ready
    return _queued_row(ctx.worker.submit_retry(user, video_id, row.filename))


@router.delete("/videos/{video_id}", status_code=204, response_class=Response,
               responses=errors(404, 409, 422))  # fmt: skip
def delete_video(video_id: str, ctx: Ctx, lib: Lib, user: User) -> Response:
    """Delete a video: its media, scenes, vectors, keyframes and faces; nothing else."""
    _not_queued(ctx, user, video_id)
    lib.delete_video(video_id)  # VideoBusy (409) while another process ingests it
    return Response(status_code=204)
