"""Typed values that flow between ingest stages, storage and the public API."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class VideoState(StrEnum):
    """Where a video is in its life; the stages are in ingest order (DESIGN.md §2)."""

    VALIDATING = "validating"
    TRANSCRIBING = "transcribing"
    DETECTING_SCENES = "detecting_scenes"
    KEYFRAMES = "keyframes"
    EMBEDDING = "embedding"
    READY = "ready"
    REJECTED = "rejected"
    FAILED = "failed"


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
    people: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class StageTiming:
    stage: str
    seconds: float


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
