"""``/api/v1/videos/{video_id}/transcript`` and ``/page``: what the app's video page shows."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from heimdex_lab.api.deps import Ctx, Lib, rate_limit
from heimdex_lab.api.models import PageMatch, PageScene, VideoPage, errors
from heimdex_lab.api.routers.scenes import keyframe_url
from heimdex_lab.types import Sentence

router = APIRouter(prefix="/api/v1", tags=["videos"], dependencies=[Depends(rate_limit)],
                   responses=errors(401, 429))  # fmt: skip


@router.get("/videos/{video_id}/transcript", response_model=list[Sentence],
            responses=errors(404, 422))  # fmt: skip
def transcript(video_id: str, lib: Lib) -> list[Sentence]:
    """The video's transcript as sentences timed by their words, in time order."""
    return lib.transcript(video_id)


@router.get("/videos/{video_id}/page", response_model=VideoPage,
            responses=errors(404, 422, 503))  # fmt: skip
def video_page(
    video_id: str,
    ctx: Ctx,
    lib: Lib,
    q: Annotated[str, Query(max_length=1000, description="mark the scenes that match this")] = "",
    min_confidence: Annotated[
        Literal["low", "medium", "high"], Query(description="marks this sure or surer")
    ] = "low",
) -> VideoPage:
    """The video page: transcript sentences, scenes (keyframe URLs, on-screen text, people)
    and, with ``q``, its matching scenes best first, each with its confidence."""
    if q.strip():
        with ctx.searches:  # a query is a search: it waits its turn like one
            found = lib.video_page(video_id, q, min_confidence)
    else:
        found = lib.video_page(video_id)
    scenes = [
        PageScene(scene_id=s.scene_id, no=s.no, start=s.start, end=s.end, text=s.text,
                  screen_text=s.screen_text, people=found.people.get(s.scene_id, []),
                  keyframes=[keyframe_url(s.scene_id, n) for n in range(len(s.keyframes))])
        for s in found.scenes
    ]  # fmt: skip
    matches = [
        PageMatch(scene_id=m.scene_id, start=m.start, end=m.end, score=m.score,
                  confidence=m.confidence)
        for m in found.matches
    ]  # fmt: skip
    return VideoPage(
        video_id=found.video_id,
        filename=found.filename,
        duration_s=found.duration_s,
        media=f"/media/{found.video_id}",
        sentences=list(found.sentences),
        scenes=scenes,
        query=found.query,
        matches=matches,
    )
