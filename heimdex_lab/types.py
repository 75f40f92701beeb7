"""Typed values that flow between ingest stages, storage and the public API."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class VideoState(StrEnum):
    """Where a video is in its life; the stages are in ingest order (docs/architecture.md §2)."""

    QUEUED = "queued"  # an upload received, waiting for the ingest worker
    VALIDATING = "validating"
    TRANSCRIBING = "transcribing"
    DETECTING_SCENES = "detecting_scenes"
    KEYFRAMES = "keyframes"
    OCR = "ocr"  # on-screen text of the keyframes
    EMBEDDING = "embedding"
    FACES = "faces"
    READY = "ready"
    REJECTED = "rejected"
    FAILED = "failed"
    # Shown, never stored: a video in a stage that no live process works on (its worker died).
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class VideoInfo:
    """What probing a file found out; only files that pass validation get one."""

    path: str
    container: str
    duration_s: float
    width: int
    height: int
    fps: float
    has_audio: bool
    size_bytes: int
    # What the headers declare (None: they are silent) and where the data really ends; they
    # differ for a stale or forged header, and ``duration_s`` is then what the data says.
    header_duration_s: float | None = None
    stream_duration_s: float | None = None


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    """One transcript segment with its words (word times drive scene text, not segment times)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class SceneSpan:
    """A scene's time range [start, end) in seconds, as detection produced it."""

    start: float
    end: float


@dataclass(frozen=True)
class Scene:
    """A stored scene: its span, the transcript words inside it, its keyframe files."""

    scene_id: str
    video_id: str
    no: int
    start: float
    end: float
    text: str
    keyframes: tuple[str, ...] = ()
    screen_text: str = ""  # distinct on-screen lines, one per line (the ocr stage)


@dataclass(frozen=True)
class ScreenLine:
    """A line of text read on screen: in which keyframe of which scene, where, how sure."""

    scene_id: str
    keyframe: int  # index into the scene's keyframes
    text: str
    box: tuple[tuple[float, float], ...]  # 4 corners in keyframe pixels, clockwise from top left
    confidence: float


@dataclass(frozen=True)
class ScreenMark:
    """Where a hit's on-screen text holds the query's words: the keyframe that shows most of
    the matching lines (its index and library-relative path) and those lines' boxes in it."""

    scene_id: str
    keyframe: int
    path: str
    boxes: tuple[tuple[tuple[float, float], ...], ...]


@dataclass(frozen=True)
class IngestResult:
    """One row per input file of an ingest call, in the order given (the CLI's JSON contract)."""

    file: str
    video_id: str | None
    state: str
    stage: str | None
    duration_s: float | None
    scenes: int
    duplicate: bool
    error: str | None

    @property
    def ok(self) -> bool:
        return self.state == VideoState.READY


@dataclass
class ModelStatus:
    """Where a configured model was found, or why it is unavailable and how to fix it."""

    job: str
    name: str
    available: bool
    location: str | None = None
    reason: str | None = None
    fix: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One ranked scene of a search, with the score of each signal (None: signal off or silent)."""

    scene_id: str
    video_id: str
    filename: str
    start: float
    end: float
    score: float
    scores: dict[str, float | None]
    text: str
    snippet: str
    people: tuple[str, ...]
    keyframe: str | None
    screen_text: str = ""
    # How far the hit can be trusted (search/confidence.py): "high", "medium" or "low".
    confidence: Literal["high", "medium", "low"] = "low"

    def to_dict(self) -> dict[str, object]:
        return {
            "scene_id": self.scene_id,
            "video_id": self.video_id,
            "filename": self.filename,
            "start": self.start,
            "end": self.end,
            "score": self.score,
            "scores": dict(self.scores),
            "text": self.text,
            "screen_text": self.screen_text,
            "snippet": self.snippet,
            "people": list(self.people),
            "keyframe": self.keyframe,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class VideoGroup:
    """One video of a search grouped by video: its best matching scenes, best first."""

    video_id: str
    filename: str
    score: float  # its best scene's
    confidence: Literal["high", "medium", "low"]  # the surest of its matching scenes
    matched: int  # how many of its scenes matched (``hits`` holds the best few)
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "video_id": self.video_id,
            "filename": self.filename,
            "score": self.score,
            "confidence": self.confidence,
            "matched": self.matched,
            "scenes": [h.to_dict() for h in self.hits],
        }


@dataclass(frozen=True)
class SearchPage:
    """A page of search results; ``total`` counts every result across pages.

    Grouped by video (``groups`` is not None), a result is a video: ``total`` and ``k`` count
    videos, ``groups`` holds the page's videos in the order of their best scene, and ``hits``
    their scenes in that order (so ``frame`` stays one row per scene).
    """

    query: str
    total: int
    page: int
    k: int
    hits: tuple[Hit, ...]
    groups: tuple[VideoGroup, ...] | None = None

    def to_dict(self) -> dict[str, object]:
        """The CLI's and HTTP API's JSON shape (docs/architecture.md §6)."""
        if self.groups is not None:
            return {
                "query": self.query,
                "group": "video",
                "total": self.total,
                "page": self.page,
                "k": self.k,
                "videos": [g.to_dict() for g in self.groups],
            }
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "k": self.k,
            "results": [h.to_dict() for h in self.hits],
        }

    @property
    def frame(self) -> object:
        """The hits as a Polars DataFrame (one row per scene, per-signal scores as columns)."""
        import polars as pl

        rows = [
            {
                **{k: v for k, v in h.to_dict().items() if k != "scores"},
                **{f"score_{name}": value for name, value in h.scores.items()},
            }
            for h in self.hits
        ]
        schema: dict[str, Any] = {
            "scene_id": pl.String,
            "video_id": pl.String,
            "filename": pl.String,
            "start": pl.Float64,
            "end": pl.Float64,
            "score": pl.Float64,
            "text": pl.String,
            "screen_text": pl.String,
            "snippet": pl.String,
            "people": pl.List(pl.String),
            "keyframe": pl.String,
            "confidence": pl.String,
            "score_text": pl.Float64,
            "score_keyword": pl.Float64,
            "score_image": pl.Float64,
            "score_screen": pl.Float64,
        }
        return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a video's transcript, timed by its first and last words."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class SceneMatch:
    """Where a query matched in one video: a scene's span, its score and confidence."""

    scene_id: str
    start: float
    end: float
    score: float
    confidence: Literal["high", "medium", "low"]


@dataclass(frozen=True)
class VideoPage:
    """What the app's video page shows: the video, its transcript as timed sentences, its
    scenes (keyframes, on-screen text, people) and, for a query, where it matched."""

    video_id: str
    filename: str
    duration_s: float | None
    sentences: tuple[Sentence, ...]
    scenes: tuple[Scene, ...]
    people: dict[str, list[str]]  # scene id -> names of the people matched in it
    query: str = ""
    matches: tuple[SceneMatch, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "video_id": self.video_id,
            "filename": self.filename,
            "duration_s": self.duration_s,
            "sentences": [{"start": s.start, "end": s.end, "text": s.text} for s in self.sentences],
            "scenes": [
                {
                    "scene_id": sc.scene_id,
                    "no": sc.no,
                    "start": sc.start,
                    "end": sc.end,
                    "text": sc.text,
                    "screen_text": sc.screen_text,
                    "people": self.people.get(sc.scene_id, []),
                    "keyframes": list(sc.keyframes),
                }
                for sc in self.scenes
            ],
            "query": self.query,
            "matches": [
                {
                    "scene_id": m.scene_id,
                    "start": m.start,
                    "end": m.end,
                    "score": m.score,
                    "confidence": m.confidence,
                }
                for m in self.matches
            ],
        }
