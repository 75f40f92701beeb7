"""``/api/v1/search``: ranked scenes, as ``heimdex search --json``."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from heimdex_lab.api.deps import Ctx, Lib, rate_limit
from heimdex_lab.api.models import SearchResults, VideoGroup, VideoSearchResults, errors
from heimdex_lab.api.routers.scenes import keyframe_url
from heimdex_lab.types import Hit

router = APIRouter(prefix="/api/v1", tags=["search"], dependencies=[Depends(rate_limit)],
                   responses=errors(401, 429))  # fmt: skip


@router.get("/search", response_model=SearchResults | VideoSearchResults, responses=errors(
    400, 404, 422, 503, _400="an empty query without a person or video filter",
    _404="a person filter names no person of the caller's"))  # fmt: skip
def search(
    ctx: Ctx,
    lib: Lib,
    q: Annotated[str, Query(description="what was said or shown")] = "",
    k: Annotated[int, Query(ge=1, le=100, description="results per page")] = 10,
    page: Annotated[int, Query(ge=1)] = 1,
    person: Annotated[list[str], Query(description="only scenes with this person")] = [],  # noqa: B006
    video: Annotated[list[str], Query(description="only scenes of this video id")] = [],  # noqa: B006
    mode: Literal["hybrid", "text", "keyword", "visual", "screen"] = "hybrid",
    language: Annotated[
        str | None,
        Query(max_length=16, description='only videos spoken in this language (ISO 639-1, "es")'),
    ] = None,
    min_confidence: Annotated[
        Literal["low", "medium", "high"],
        Query(description="only results this sure or surer; low: all (each result's confidence)"),
    ] = "low",
    group: Annotated[
        Literal["scene", "video"],
        Query(description="video: one result per video with its best scenes; k counts videos"),
    ] = "scene",
) -> SearchResults | VideoSearchResults:
    """Ranked scenes, as `heimdex search --json`: query, total, page, results.

    ``keyframe`` is the URL of the scene's middle keyframe (a file path in the CLI).
    ``group=video``: ``videos`` instead of ``results``, each with its best ``scenes``.
    """
    with ctx.searches:  # at most serve_max_searches at once; the rest wait their turn
        found = lib.search(q, k, page, person, video, mode, language=language,
                           min_confidence=min_confidence, group=group)  # fmt: skip
    if found.groups is not None:
        return VideoSearchResults(
            query=found.query, group="video", total=found.total, page=found.page, k=found.k,
            videos=[VideoGroup(video_id=g.video_id, filename=g.filename, score=g.score,
                               confidence=g.confidence, matched=g.matched,
                               scenes=[_with_url(h) for h in g.hits])
                    for g in found.groups],
        )  # fmt: skip
    return SearchResults(query=found.query, total=found.total, page=found.page, k=found.k,
                         results=[_with_url(h) for h in found.hits])  # fmt: skip


def _with_url(hit: Hit) -> Hit:
    return dataclasses.replace(hit, keyframe=keyframe_url(hit.scene_id) if hit.keyframe else None)
