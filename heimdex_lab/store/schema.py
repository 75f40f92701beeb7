"""The catalog's tables: one SQLAlchemy row class per table, and the typed values made of them.

The schema is kept by the migrations in ``store/migrations`` (these classes are what they build);
the same tables on SQLite and PostgreSQL. Queries live in the owner-scoped repositories
(``store/videos.py``, ``store/scenes.py``, ``store/people.py``) and in ``store/catalog.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from heimdex_lab.types import Scene, Segment, VideoInfo, Word

# PostgreSQL text search configuration of scenes.ts (frozen in migration 0002): queries must be
# parsed with the same one, or stems would not match.
TS_CONFIG = "english"


def now_utc() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))


class TokenRow(Base):
    """An API bearer token: only its SHA-256 is stored, so a leaked catalog leaks no token."""

    __tablename__ = "api_tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)


class VideoRow(Base):
    __tablename__ = "videos"
    __table_args__ = (UniqueConstraint("owner", "sha256", name="uq_videos_owner_sha256"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    container: Mapped[str | None] = mapped_column(String(16))
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Float)
    has_audio: Mapped[bool | None] = mapped_column(Boolean)
    # 64-bit on PostgreSQL (files over 2 GiB); SQLite's INTEGER is 64-bit already.
    size_bytes: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    media_name: Mapped[str | None] = mapped_column(String(128))
    vision: Mapped[bool | None] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(32), index=True)
    stage: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    # Which process ingests the video and until when its claim holds (ingest/lease.py).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A queued upload's received file under <library>/uploads, until it is ingested.
    upload_name: Mapped[str | None] = mapped_column(String(128))
    # The language spoken (ISO 639-1, from the speech model) and how sure it was.
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    language_probability: Mapped[float | None] = mapped_column(Float)


class JobRow(Base):
    """One row per video and stage: progress within the stage, timing, models used."""

    __tablename__ = "jobs"
    video_id: Mapped[str] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    models: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SegmentRow(Base):
    __tablename__ = "segments"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    no: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[list[Any]]] = mapped_column(JSON)  # [[start, end, word], ...]


class SceneRow(Base):
    """A scene. On PostgreSQL the table also has ``ts`` and ``screen_ts``, tsvectors of ``text``
    and ``screen_text`` that `SceneRepository._replace_fts` writes (see the migrations), left
    unmapped so no query loads them."""

    __tablename__ = "scenes"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    no: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
    keyframes: Mapped[list[str]] = mapped_column(JSON, default=list)
    screen_text: Mapped[str] = mapped_column(Text, default="", server_default="")


class ScreenLineRow(Base):
    """A line of on-screen text read in one keyframe of a scene (the ocr stage)."""

    __tablename__ = "screen_lines"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # {scene_id}:{keyframe}:{n}
    scene_id: Mapped[str] = mapped_column(String(96), index=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    keyframe: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    box: Mapped[list[list[float]]] = mapped_column(JSON)  # 4 corners, keyframe pixels
    confidence: Mapped[float] = mapped_column(Float)


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_people_owner_name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)


class PersonPhotoRow(Base):
    """A reference face of a person: from an enrolment photo or a named face in a video."""

    __tablename__ = "person_photos"
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)  # relative to the library
    vector: Mapped[list[float]] = mapped_column(JSON)
    backend: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)  # original file name, or "face:<face id>"


class FaceRow(Base):
    __tablename__ = "faces"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    scene_id: Mapped[str] = mapped_column(String(96), index=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    t: Mapped[float] = mapped_column(Float)
    box: Mapped[list[int]] = mapped_column(JSON)  # left, top, width, height in the keyframe
    crop: Mapped[str] = mapped_column(Text)  # thumbnail path relative to the library
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[float | None] = mapped_column(Float)  # distance to the matched person


def probed_columns(info: VideoInfo) -> dict[str, Any]:
    """The video columns that probing its file fills."""
    return {
        "container": info.container,
        "duration_s": info.duration_s,
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "has_audio": info.has_audio,
    }


# Full-text fields: (SQLite FTS5 table, PostgreSQL tsvector column), both kept by migrations.
FULL_TEXT = {"text": ("scene_fts", "ts"), "screen": ("screen_fts", "screen_ts")}


def segment_from_row(row: SegmentRow) -> Segment:
    return Segment(
        start=row.start,
        end=row.end,
        text=row.text,
        words=tuple(Word(float(s), float(e), str(w)) for s, e, w in row.words),
    )


def scene_from_row(row: SceneRow) -> Scene:
    return Scene(
        scene_id=row.id,
        video_id=row.video_id,
        no=row.no,
        start=row.start,
        end=row.end,
        text=row.text,
        keyframes=tuple(row.keyframes or ()),
        screen_text=row.screen_text or "",
    )


def probe_figures(info: VideoInfo) -> dict[str, Any] | None:
    """What the validating job records of a probe: the header's duration and where the data
    ends (they differ for a stale header; the video's duration is the data's)."""
    if info.stream_duration_s is None:
        return None
    return {
        "duration_header_s": info.header_duration_s,
        "duration_stream_s": info.stream_duration_s,
    }
