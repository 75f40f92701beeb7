"""The HTTP API's response shapes (``/docs`` shows each), and the one error body every route
answers with: ``{error, detail}``. JSON shapes are the CLI's ``--json`` (DESIGN.md §6)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from heimdex_lab.types import Hit, Sentence


class ErrorBody(BaseModel):
    """Every error: a short machine-readable code and a sentence a person can act on."""

    error: str = Field(examples=["not_found"], description="machine-readable code")
    detail: str = Field(examples=["no video with id '3f2a'"], description="what went wrong")


_WHY = {
    400: "a request that cannot be done as asked (e.g. an empty query without filters)",
    401: "no valid bearer token or sign-in",
    403: "the signed preview link is invalid or expired",
    404: "no such id for this user (another user's id included)",
    409: "the video is busy, rejected or ready (``error`` says which)",
    413: "the request body is over its size limit",
    415: "not a video container, or not multipart/form-data",
    422: "a parameter or body field is invalid (``detail`` names it and why)",
    429: "over the rate limit; ``Retry-After`` says when to try again",
    503: "a model or store this request needs is unavailable",
}


def errors(*statuses: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with the error body and why it happens;
    ``why`` overrides a description by status (``_422="…"``)."""
    return {
        status: {"model": ErrorBody, "description": why.get(f"_{status}", _WHY[status])}
        for status in statuses
    }


class VideoRow(BaseModel):
    """A video as ``heimdex videos --json`` lists it; a queued upload has no duration yet."""

    video_id: str
    filename: str
    state: str = Field(description="queued, ingesting, a stage, ready, failed, rejected or "
                       "interrupted")  # fmt: skip
    stage: str | None
    progress: float = Field(description="fraction done of the current stage (1.0 when ready)")
    duration_s: float | None
    scenes: int
    language: str | None = Field(default=None, description='ISO 639-1 code, e.g. "es"')
    language_probability: float | None = None
    error: str | None


class VideoStatus(BaseModel):
    video_id: str
    filename: str
    state: str
    stage: str | None
    progress: float
    error: str | None


class ScreenLine(BaseModel):
    keyframe: int = Field(description="index into the scene's keyframes")
    text: str
    box: list[list[float]] = Field(description="4 corners in the keyframe's pixels")
    confidence: float


class SceneDetail(BaseModel):
    """One scene as ``heimdex scene --json`` shows it; keyframes are URLs here."""

    scene_id: str
    no: int
    start: float
    end: float
    text: str
    screen_text: str
    screen_lines: list[ScreenLine]
    people: list[str]
    keyframes: list[str]
    video_id: str
    filename: str
    neighbours: list[str]
    transcript: str


class Preview(BaseModel):
    scene_id: str
    video_id: str
    start: float
    end: float
    url: str = Field(description="signed media URL with the fragment #t=start,end")
    expires_at: str = Field(description="ISO 8601, UTC")


class SearchResults(BaseModel):
    """As ``heimdex search --json``: ``total`` counts results across pages."""

    query: str
    total: int
    page: int
    k: int
    results: list[Hit] = Field(description="keyframe: the URL of the scene's middle keyframe")


class VideoGroup(BaseModel):
    """One video of a search grouped by video, with its best matching scenes."""

    video_id: str
    filename: str
    score: float = Field(description="its best scene's score")
    confidence: Literal["high", "medium", "low"] = Field(
        description="the surest of its matching scenes"
    )
    matched: int = Field(description="how many of its scenes matched")
    scenes: list[Hit] = Field(description="its best scenes, best first")


class VideoSearchResults(BaseModel):
    """As ``heimdex search --group video --json``: ``total``, ``k`` and ``page`` count videos."""

    query: str
    group: Literal["video"]
    total: int
    page: int
    k: int
    videos: list[VideoGroup]


class PageScene(BaseModel):
    scene_id: str
    no: int
    start: float
    end: float
    text: str
    screen_text: str
    people: list[str]
    keyframes: list[str] = Field(description="keyframe URLs, in time order")


class PageMatch(BaseModel):
    scene_id: str
    start: float
    end: float
    score: float
    confidence: Literal["high", "medium", "low"]


class VideoPage(BaseModel):
    """What the app's video page shows: the transcript as timed sentences, the scenes with
    keyframes, on-screen text and people, and the scenes that match ``query``, best first."""

    video_id: str
    filename: str
    duration_s: float | None
    media: str = Field(description="the player's URL (range requests)")
    sentences: list[Sentence]
    scenes: list[PageScene]
    query: str
    matches: list[PageMatch]


class PersonRow(BaseModel):
    person_id: str
    name: str
    photos: int
    scenes: int


class NewPerson(BaseModel):
    name: str = Field(min_length=1, max_length=256, examples=["Eileen Collins"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="catalog, vectors, model:speech, model:text")
