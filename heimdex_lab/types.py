"""Typed values that flow between ingest stages, storage and the public API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

if TYPE_CHECKING:
    import polars as pl


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
    def frame(self) -> pl.DataFrame:
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


# Library records: what `Library.videos()`, `.video()`, `.scenes()`, `.scene()` and
# `.people_list()` return. ``to_dict()`` is the CLI's and HTTP API's JSON shape
# (docs/architecture.md §6); each list's ``frame`` is the same as a Polars DataFrame.


@dataclass(frozen=True)
class Video:
    """One video as its owner sees it: where ingest is, what it found, why it failed."""

    video_id: str
    filename: str
    state: str  # a VideoState; "interrupted" when no live process works on its stage
    stage: str | None
    progress: float  # of the current stage, 0 to 1 (1 when ready)
    duration_s: float | None
    scenes: int
    language: str | None  # ISO 639-1, as the speech model heard it
    language_probability: float | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SceneSummary:
    """A scene in its video's list (`Library.scenes`): times, text, people, keyframe files."""

    scene_id: str
    no: int
    start: float
    end: float
    text: str
    screen_text: str
    people: tuple[str, ...]
    keyframes: tuple[str, ...]  # paths relative to the library

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "people": list(self.people), "keyframes": list(self.keyframes)}


@dataclass(frozen=True)
class SceneDetail:
    """One scene (`Library.scene`): its summary, the lines read on screen, its video, the
    neighbouring scenes' ids and the video's whole transcript."""

    scene_id: str
    no: int
    start: float
    end: float
    text: str
    screen_text: str
    screen_lines: tuple[ScreenLine, ...]
    people: tuple[str, ...]
    keyframes: tuple[str, ...]
    video_id: str
    filename: str
    neighbours: tuple[str, ...]
    transcript: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "scene_id": self.scene_id,
            "no": self.no,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "screen_text": self.screen_text,
            # Each line read on screen: which keyframe, its 4-corner box in that keyframe's
            # pixels, and the engine's confidence (the app draws the boxes).
            "screen_lines": [
                {
                    "keyframe": ln.keyframe,
                    "text": ln.text,
                    "box": [list(p) for p in ln.box],
                    "confidence": ln.confidence,
                }
                for ln in self.screen_lines
            ],
            "people": list(self.people),
            "keyframes": list(self.keyframes),
            "video_id": self.video_id,
            "filename": self.filename,
            "neighbours": list(self.neighbours),
            "transcript": self.transcript,
        }


@dataclass(frozen=True)
class Person:
    """An enrolled person: reference photos and the number of scenes they were matched in."""

    person_id: str
    name: str
    photos: int
    scenes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


R = TypeVar("R", Video, SceneSummary, Person)


class RecordList(tuple[R, ...]):
    """Records in order (a tuple), with ``frame``: the same as a Polars DataFrame, one row
    each (shown as that table in Jupyter)."""

    columns: ClassVar[dict[str, str]]  # column: Polars type name

    @property
    def frame(self) -> pl.DataFrame:
        import polars as pl

        schema = {name: _polars_type(pl, kind) for name, kind in self.columns.items()}
        return pl.DataFrame(self.to_dicts(), schema=schema)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self]

    def _repr_html_(self) -> str:
        return str(self.frame._repr_html_())


def _polars_type(pl: Any, kind: str) -> Any:
    return pl.List(pl.String) if kind == "List[String]" else getattr(pl, kind)


class VideoList(RecordList[Video]):
    columns: ClassVar[dict[str, str]] = {
        "video_id": "String", "filename": "String", "state": "String", "stage": "String",
        "progress": "Float64", "duration_s": "Float64", "scenes": "Int64", "language": "String",
        "language_probability": "Float64", "error": "String",
    }  # fmt: skip


class SceneList(RecordList[SceneSummary]):
    columns: ClassVar[dict[str, str]] = {
        "scene_id": "String", "no": "Int64", "start": "Float64", "end": "Float64",
        "text": "String", "screen_text": "String", "people": "List[String]",
        "keyframes": "List[String]",
    }  # fmt: skip


class PersonList(RecordList[Person]):
    columns: ClassVar[dict[str, str]] = {
        "person_id": "String", "name": "String", "photos": "Int64", "scenes": "Int64",
    }  # fmt: skip


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
