"""``/api/v1``: videos, search, scenes and previews, people. JSON shapes are the CLI's ``--json``.

Every handler acts as the caller's user through that user's ``Library``, so isolation is the
Library's: another user's id is simply not found (404), never forbidden with details.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from slowapi import Limiter

from heimdex_lab.api import auth
from heimdex_lab.api.server import ApiError, ServerContext, context, current_user
from heimdex_lab.api.upload import UploadRefused, receive_file
from heimdex_lab.errors import NotFound, NotResumable
from heimdex_lab.ingest import lease
from heimdex_lab.library import Library
from heimdex_lab.people import InvalidPhoto

User = Annotated[str, Depends(current_user)]
Ctx = Annotated[ServerContext, Depends(context)]

MAX_PHOTO_BYTES = 20 * 1024 * 1024
_BODY_SLACK = 64 * 1024  # multipart headers and boundaries around the file


class NewPerson(BaseModel):
    name: str = Field(min_length=1, max_length=256, examples=["Eileen Collins"])


def _video_row(lib: Library, video_id: str) -> dict[str, Any]:
    frame = lib.videos()
    rows = frame.filter(frame["video_id"] == video_id).to_dicts()
    if not rows:
        raise NotFound(f"no video with id {video_id!r}")
    return rows[0]


def _queued_row(upload: Any) -> dict[str, Any]:
    return {**upload.to_dict(), "duration_s": None, "scenes": 0}


def _video(ctx: ServerContext, user: str, video_id: str) -> dict[str, Any]:
    """The catalog's row, or the upload's while it waits in the queue (not in the catalog yet)."""
    try:
        return _video_row(ctx.library(user), video_id)
    except NotFound:
        pending = ctx.worker.pending(user, video_id)  # before its catalog row is written
        if pending is None:
            raise
        return _queued_row(pending)


def _keyframe_url(scene_id: str, n: int | None = None) -> str:
    return f"/api/v1/scenes/{scene_id}/keyframe" + ("" if n is None else f"?n={n}")


def api_router(limit: str, limiter: Limiter) -> APIRouter:
    """The versioned API; every route counts against the caller's rate limit."""
    router = APIRouter(prefix="/api/v1")
    limited = limiter.limit(limit)

    # Videos ------------------------------------------------------------------------------

    @router.post("/videos", status_code=202, tags=["videos"],
                 responses={413: {"description": "over the size limit"},
                            415: {"description": "not a video container"}})  # fmt: skip
    @limited
    async def upload_video(request: Request, ctx: Ctx, user: User) -> JSONResponse:
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
        return JSONResponse(_queued_row(upload), status_code=202)

    @router.get("/videos", tags=["videos"])
    @limited
    def list_videos(request: Request, ctx: Ctx, user: User) -> list[dict[str, Any]]:
        """Every video of the caller, oldest first, then uploads still queued."""
        rows = ctx.library(user).videos().to_dicts()
        known = {r["video_id"] for r in rows}
        for upload in ctx.worker.of(user):
            if upload.state in ("queued", "ingesting") and upload.video_id not in known:
                known.add(upload.video_id)
                rows.append(_queued_row(upload))
        return rows

    @router.get("/videos/{video_id}", tags=["videos"])
    @limited
    def get_video(request: Request, video_id: str, ctx: Ctx, user: User) -> dict[str, Any]:
        """One video: file name, state, stage, progress, duration, scenes, error."""
        return _video(ctx, user, video_id)

    @router.get("/videos/{video_id}/status", tags=["videos"])
    @limited
    def video_status(request: Request, video_id: str, ctx: Ctx, user: User) -> dict[str, Any]:
        """State (``queued`` … ``ready`` / ``failed`` / ``rejected``), stage and progress."""
        row = _video(ctx, user, video_id)
        keys = ("video_id", "filename", "state", "stage", "progress", "error")
        return {key: row.get(key) for key in keys}

    @router.post("/videos/{video_id}/retry", status_code=202, tags=["videos"])
    @limited
    def retry_video(request: Request, video_id: str, ctx: Ctx, user: User) -> dict[str, Any]:
        """Resume a failed or interrupted video in the background, from where it stopped."""
        if ctx.worker.pending(user, video_id) is not None:
            raise ApiError(409, "busy", f"video {video_id!r} is already queued or being ingested")
        try:
            row = ctx.library(user).resumable(video_id)
        except NotResumable as exc:
            raise ApiError(409, exc.code, str(exc)) from None
        return _queued_row(ctx.worker.submit_retry(user, video_id, row.filename))

    @router.delete("/videos/{video_id}", status_code=204, tags=["videos"])
    @limited
    def delete_video(request: Request, video_id: str, ctx: Ctx, user: User) -> Response:
        """Delete a video: its media, scenes, vectors, keyframes and faces; nothing else."""
        lib = ctx.library(user)
        if ctx.worker.pending(user, video_id) is not None or lease.is_live(
            lib.catalog.video(user, video_id)
        ):
            raise ApiError(409, "busy", f"video {video_id!r} is being ingested; delete it after")
        lib.delete_video(video_id)
        return Response(status_code=204)

    # Search and scenes ---------------------------------------------------------------------

    @router.get("/search", tags=["search"])
    @limited
    def search(
        request: Request,
        ctx: Ctx,
        user: User,
        q: Annotated[str, Query(description="what was said or shown")] = "",
        k: Annotated[int, Query(ge=1, le=100, description="results per page")] = 10,
        page: Annotated[int, Query(ge=1)] = 1,
        person: Annotated[list[str], Query(description="only scenes with this person")] = [],  # noqa: B006
        video: Annotated[list[str], Query(description="only scenes of this video id")] = [],  # noqa: B006
        mode: Literal["hybrid", "text", "keyword", "visual", "screen"] = "hybrid",
    ) -> JSONResponse:
        """Ranked scenes, as `heimdex search --json`: query, total, page, results.

        ``keyframe`` is the URL of the scene's middle keyframe (a file path in the CLI).
        """
        with ctx.searches:  # at most serve_max_searches at once; the rest wait their turn
            result = ctx.library(user).search(q, k, page, person, video, mode).to_dict()
        for hit in result["results"]:  # type: ignore[attr-defined]
            hit["keyframe"] = _keyframe_url(hit["scene_id"]) if hit["keyframe"] else None
        return JSONResponse(result)

    @router.get("/scenes/{scene_id}", tags=["search"])
    @limited
    def scene(request: Request, scene_id: str, ctx: Ctx, user: User) -> dict[str, Any]:
        """One scene: times, text, people, keyframe URLs, its video, neighbours, transcript."""
        detail = ctx.library(user).scene(scene_id)
        count = len(detail["keyframes"])
        detail["keyframes"] = [_keyframe_url(scene_id, n) for n in range(count)]
        return detail

    @router.get("/scenes/{scene_id}/keyframe", tags=["search"], response_class=FileResponse,
                responses={200: {"content": {"image/jpeg": {}}}})  # fmt: skip
    @limited
    def keyframe(request: Request, scene_id: str, ctx: Ctx, user: User,
                 n: Annotated[int | None, Query(ge=0)] = None) -> FileResponse:  # fmt: skip
        """A keyframe of the scene as JPEG: the ``n``-th, or the middle one."""
        lib = ctx.library(user)
        names = lib.scene(scene_id)["keyframes"]
        if not names or (n is not None and n >= len(names)):
            raise ApiError(404, "not_found", f"scene {scene_id!r} has no keyframe {n}")
        path = lib.path / names[len(names) // 2 if n is None else n]
        return FileResponse(path, media_type="image/jpeg",
                            headers={"Cache-Control": "private, max-age=86400"})  # fmt: skip

    @router.get("/scenes/{scene_id}/preview", tags=["search"])
    @limited
    def preview(request: Request, scene_id: str, ctx: Ctx, user: User) -> dict[str, Any]:
        """A short-lived signed media URL that plays the scene (for players without headers).

        The URL carries a media fragment ``#t=start,end``; range requests work on it.
        """
        detail = ctx.library(user).scene(scene_id)
        expires = int(time.time()) + ctx.settings.preview_ttl_s
        video_id = detail["video_id"]
        sig = auth.sign_media(ctx.secret, video_id, expires)
        base = str(request.base_url).rstrip("/")
        start, end = detail["start"], detail["end"]
        return {
            "scene_id": scene_id,
            "video_id": video_id,
            "start": start,
            "end": end,
            "url": f"{base}/media/{video_id}?exp={expires}&sig={sig}#t={start:.2f},{end:.2f}",
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
        }

    # People --------------------------------------------------------------------------------

    @router.get("/people", tags=["people"])
    @limited
    def list_people(request: Request, ctx: Ctx, user: User) -> list[dict[str, Any]]:
        """Every person of the caller: photos and the number of scenes they appear in."""
        return ctx.library(user).people_frame().to_dicts()

    @router.post("/people", status_code=201, tags=["people"])
    @limited
    def create_person(request: Request, person: NewPerson, ctx: Ctx, user: User
                      ) -> dict[str, object]:  # fmt: skip
        """Create a person (no photos yet); an existing name returns that person."""
        return ctx.library(user).people.create(person.name).to_dict()

    @router.post("/people/{person_id}/photos", tags=["people"],
                 responses={422: {"description": "a photo without one usable face"}})  # fmt: skip
    @limited
    async def add_photos(
        request: Request,
        person_id: str,
        ctx: Ctx,
        user: User,
        photos: Annotated[list[UploadFile], File(description="one or more photos, one face each")],
    ) -> dict[str, object]:
        """Enrol photos of a person; each must hold exactly one usable face (else 422 and why).

        All or nothing: one bad photo stores none of them. Stored faces are matched again.
        """
        people = ctx.library(user).people
        name = people.name_of(person_id)
        with tempfile.TemporaryDirectory(prefix="heimdex-photos-") as folder:
            paths = []
            for n, photo in enumerate(photos):
                if photo.size is not None and photo.size > MAX_PHOTO_BYTES:
                    raise ApiError(413, "too_large", f"{photo.filename}: a photo may have at "
                                   f"most {MAX_PHOTO_BYTES:,} bytes")  # fmt: skip
                shown = "".join(c for c in Path(photo.filename or "").name if c.isprintable())
                path = Path(folder) / str(n) / (shown or "photo.jpg")  # the user's name: shown only
                path.parent.mkdir()
                path.write_bytes(await photo.read())
                paths.append(path)
            from starlette.concurrency import run_in_threadpool

            try:
                result = await run_in_threadpool(people.add, name, paths)
            except InvalidPhoto as exc:  # name the user's file, never our temporary path
                raise ApiError(
                    422, "invalid_photo", f"{Path(exc.path).name}: {exc.reason}"
                ) from None
        return result.to_dict()

    return router
