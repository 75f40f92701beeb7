"""``/api/v1/search``: ranked scenes, as ``heimdex search --json``."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from heimdex_lab.api.deps import Ctx, Lib, rate_limit
from heimdex_lab.api.models import SearchResults, errors
from heimdex_lab.api.routers.scenes import keyframe_url

router = APIRouter(prefix="/api/v1", tags=["search"], dependencies=[Depends(rate_limit)],
                   responses=errors(401, 429))  # fmt: skip


@router.get("/search", response_model=SearchResults, responses=errors(
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
) -> SearchResults:
    """Ranked scenes, as `heimdex search --json`: query, total, page, results.

    ``keyframe`` is the URL of the scene's middle keyframe (a file path in the CLI).
    """
    with ctx.searches:  # at most serve_max_searches at once; the rest wait their turn
        found = lib.search(
            q, k, page, person, video, mode, language=language, min_confidence=min_confidence
        )
    hits = [
        dataclasses.replace(h, keyframe=keyframe_url(h.scene_id) if h.keyframe else None)
        for h in found.hits
    ]
    return SearchResults(query=found.query, total=found.total, page=found.page, k=found.k,
                         results=hits)  # fmt: skip
