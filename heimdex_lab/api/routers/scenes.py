"""``/api/v1/scenes/{scene_id}``: one scene, its keyframes, a signed preview URL."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from heimdex_lab.api import auth
from heimdex_lab.api.deps import ApiError, Ctx, Lib, rate_limit
from heimdex_lab.api.models import Preview, SceneDetail, errors

router = APIRouter(prefix="/api/v1", tags=["search"], dependencies=[Depends(rate_limit)],
                   responses=errors(401, 429))  # fmt: skip


def keyframe_url(scene_id: str, n: int | None = None) -> str:
    return f"/api/v1/scenes/{scene_id}/keyframe" + ("" if n is None else f"?n={n}")


@router.get("/scenes/{scene_id}", response_model=SceneDetail, responses=errors(404, 422))
def scene(scene_id: str, lib: Lib) -> dict[str, Any]:
    """One scene: times, text, people, keyframe URLs, its video, neighbours, transcript."""
    detail = lib.scene(scene_id).to_dict()
    count = len(detail["keyframes"])
    detail["keyframes"] = [keyframe_url(scene_id, n) for n in range(count)]
    return detail


@router.get(
    "/scenes/{scene_id}/keyframe", response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the keyframe as JPEG"},
               **errors(404, 422)},
)  # fmt: skip
def keyframe(scene_id: str, lib: Lib, n: Annotated[int | None, Query(ge=0)] = None
             ) -> FileResponse:  # fmt: skip
    """A keyframe of the scene as JPEG: the ``n``-th, or the middle one."""
    names = lib.scene(scene_id).keyframes
    if not names or (n is not None and n >= len(names)):
        raise ApiError(404, "not_found", f"scene {scene_id!r} has no keyframe {n}")
    path = lib.path / names[len(names) // 2 if n is None else n]
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})  # fmt: skip


@router.get("/scenes/{scene_id}/preview", response_model=Preview, responses=errors(404, 422))
def preview(request: Request, scene_id: str, ctx: Ctx, lib: Lib) -> Preview:
    """A short-lived signed media URL that plays the scene (for players without headers).

    The URL carries a media fragment ``#t=start,end``; range requests work on it.
    """
    detail = lib.scene(scene_id)
    expires = int(time.time()) + ctx.settings.preview_ttl_s
    video_id = detail.video_id
    sig = auth.sign_media(ctx.secret, video_id, expires)
    base = str(request.base_url).rstrip("/")
    start, end = detail.start, detail.end
    return Preview(
        scene_id=scene_id,
        video_id=video_id,
        start=start,
        end=end,
        url=f"{base}/media/{video_id}?exp={expires}&sig={sig}#t={start:.2f},{end:.2f}",
        expires_at=datetime.fromtimestamp(expires, UTC).isoformat(),
    )
