"""The catalog: videos, jobs, transcript segments and scenes in one SQLAlchemy database.

SQLite (WAL) is the embedded default, PostgreSQL the shared one (``HEIMDEX_DATABASE_URL``); the
schema is the same on both and kept by the migrations in ``store/migrations``. Keyword search is
FTS5 on SQLite and a tsvector on PostgreSQL. Each ingest stage writes its output and moves the
video's state in ONE transaction (`commit_stage`), so an interrupted ingest resumes at the first
unfinished stage and never sees half a stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    make_url,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from heimdex_lab.errors import HeimdexError, NotFound
from heimdex_lab.extras import needs
from heimdex_lab.failpoints import failpoint
from heimdex_lab.store import migrations
from heimdex_lab.store.fulltext import index_text, tsvector_text
from heimdex_lab.types import Scene, ScreenLine, Segment, VideoInfo, VideoState, Word

# PostgreSQL text search configuration of scenes.ts (frozen in migration 0002): queries must be
# parsed with the same one, or stems would not match.
TS_CONFIG = "english"


def _now() -> datetime:
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
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
    and ``screen_text`` that `Catalog._replace_fts` writes (see the migrations), left unmapped so
    no query loads them."""

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


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


def database_url(url: str) -> str:
    """``url`` with PostgreSQL URLs on the psycopg 3 driver: ``postgres://`` (as Supabase and
    Heroku print them) and a bare ``postgresql://`` would ask SQLAlchemy for psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _probed(info: VideoInfo) -> dict[str, Any]:
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
_FULL_TEXT = {"text": ("scene_fts", "ts"), "screen": ("screen_fts", "screen_ts")}


def _video_filter(videos: Sequence[str], params: dict[str, Any]) -> str:
    """`` AND video_id IN (:v0, …)`` for a raw full-text query (empty without ``videos``);
    the values go into ``params``."""
    if not videos:
        return ""
    params.update({f"v{i}": v for i, v in enumerate(videos)})
    return f" AND video_id IN ({', '.join(f':v{i}' for i in range(len(videos)))})"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


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


class Catalog:
    """Typed access to the catalog database; every query is scoped by owner where ids come in."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        # A server may drop idle connections (Supabase does): check one before handing it out.
        with needs("scale", f"a {self.dialect} catalog (HEIMDEX_DATABASE_URL)"):  # its driver
            self.engine: Engine = create_engine(self.url, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            migrations.upgrade(self.engine)
        except OperationalError as exc:
            self.engine.dispose()
            where = self.engine.url.render_as_string(hide_password=True)
            fix = (
                "check that the library folder exists and is writable"
                if self.is_sqlite
                else "check HEIMDEX_DATABASE_URL and that the database server is reachable"
            )
            raise HeimdexError(f"cannot open the catalog at {where}: {exc.orig}; {fix}") from exc

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception."""
        with self._sessions.begin() as s:
            yield s

    # Users ---------------------------------------------------------------------------------

    def set_password(self, name: str, password_hash: str) -> None:
        """Create the local account ``name`` or change its password hash."""
        with self.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                s.add(UserRow(id=name, name=name, password_hash=password_hash))
            else:
                row.password_hash = password_hash

    def has_users(self) -> bool:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(UserRow)) != 0

    def password_hash(self, name: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(UserRow.password_hash).where(UserRow.name == name))

    def add_token(self, user: str, token_sha256: str) -> None:
        with self.session() as s:
            s.add(TokenRow(token_sha256=token_sha256, user=user))

    def token_user(self, token_sha256: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(TokenRow.user).where(TokenRow.token_sha256 == token_sha256))

    def revoke_tokens(self, user: str) -> int:
        with self.session() as s:
            result = s.execute(delete(TokenRow).where(TokenRow.user == user))
            return int(result.rowcount)  # type: ignore[attr-defined]

    # Videos --------------------------------------------------------------------------------

    def state_counts(self) -> dict[str, int]:
        """Videos by state across all owners (the server's metrics)."""
        with self.session() as s:
            rows = s.execute(select(VideoRow.state, func.count()).group_by(VideoRow.state))
            return {state: n for state, n in rows}

    def find_by_sha(self, owner: str, sha256: str) -> VideoRow | None:
        with self.session() as s:
            return s.scalar(
                select(VideoRow).where(VideoRow.owner == owner, VideoRow.sha256 == sha256)
            )

    def video_owner(self, video_id: str) -> str | None:
        """Whose video this is; only for a request already authorised by a signed URL."""
        with self.session() as s:
            return s.scalar(select(VideoRow.owner).where(VideoRow.id == video_id))

    def video(self, owner: str, video_id: str) -> VideoRow:
        with self.session() as s:
            row = s.scalar(select(VideoRow).where(VideoRow.id == video_id, VideoRow.owner == owner))
        if row is None:
            raise NotFound(f"no video with id {video_id!r}")
        return row

    def add_rejected(self, video_id: str, owner: str, filename: str, reason: str) -> VideoRow:
        row = VideoRow(
            id=video_id,
            owner=owner,
            filename=filename,
            state=VideoState.REJECTED,
            stage=VideoState.VALIDATING,
            error=reason,
        )
        with self.session() as s:
            s.add(row)
        return row

    def add_accepted(
        self,
        video_id: str,
        owner: str,
        filename: str,
        sha256: str,
        info: VideoInfo,
        media_name: str,
    ) -> VideoRow:
        """Record a validated video whose media is already stored; next stage: transcribing."""
        row = VideoRow(
            id=video_id,
            owner=owner,
            filename=filename,
            sha256=sha256,
            **_probed(info),
            size_bytes=info.size_bytes,
            media_name=media_name,
            state=VideoState.TRANSCRIBING,
            stage=VideoState.TRANSCRIBING,
        )
        with self.session() as s:
            s.add(row)
            s.flush()  # the video row first: jobs reference it
            s.add(
                JobRow(
                    video_id=video_id,
                    stage=VideoState.VALIDATING,
                    progress=1.0,
                    started_at=_now(),
                    finished_at=_now(),
                    models=self.probe_figures(info),
                )
            )
        return row

    def videos(self, owner: str) -> list[VideoRow]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(VideoRow).where(VideoRow.owner == owner).order_by(VideoRow.created_at)
                )
            )

    def unfinished(self, owner: str) -> list[VideoRow]:
        done = (VideoState.READY, VideoState.REJECTED)
        return [v for v in self.videos(owner) if v.state not in done]

    # Queued uploads and ingest leases (ingest/lease.py) ----------------------------------------

    def add_queued(self, video_id: str, owner: str, filename: str, upload_name: str) -> bool:
        """Record a received upload waiting for ingest; False when the id is taken already
        (the same bytes are in the library: ingesting them finds that video)."""
        try:
            with self.session() as s:
                if s.get(VideoRow, video_id) is not None:
                    return False
                s.add(VideoRow(id=video_id, owner=owner, filename=filename,
                               state=VideoState.QUEUED, stage=VideoState.QUEUED,
                               upload_name=upload_name))  # fmt: skip
        except IntegrityError:  # another process queued the same id a moment ago
            return False
        return True

    def drop_queued(self, video_id: str) -> None:
        """Remove a queued upload's row (its file is being accepted or rejected now)."""
        with self.session() as s:
            s.execute(
                delete(VideoRow).where(VideoRow.id == video_id, VideoRow.state == VideoState.QUEUED)
            )

    def video_by_id(self, video_id: str) -> VideoRow | None:
        """Any owner's video; only for the ingest worker, which acts as each video's owner."""
        with self.session() as s:
            return s.get(VideoRow, video_id)

    def resumable(self) -> list[VideoRow]:
        """Every owner's queued or interrupted videos (not ready, rejected or failed), oldest
        first: what a starting server's ingest worker picks up."""
        done = (VideoState.READY, VideoState.REJECTED, VideoState.FAILED)
        with self.session() as s:
            return list(
                s.scalars(
                    select(VideoRow)
                    .where(VideoRow.state.not_in(done))
                    .order_by(VideoRow.created_at, VideoRow.id)
                )
            )

    def upload_names(self) -> set[str]:
        """Files under <library>/uploads that queued uploads still need."""
        with self.session() as s:
            rows = s.scalars(select(VideoRow.upload_name).where(VideoRow.upload_name.is_not(None)))
            return {name for name in rows if name}

    def claim(self, video_id: str, holder: str, until: datetime, breakable: str | None) -> bool:
        """Take the video's ingest lease unless another live holder has it; one conditional
        UPDATE, so of two workers racing for it exactly one wins. ``breakable`` is a holder
        known dead (its lease is taken even if it has not expired)."""
        free = or_(
            VideoRow.lease_owner.is_(None),
            VideoRow.lease_owner == holder,
            VideoRow.lease_until.is_(None),
            VideoRow.lease_until < _now(),
        )
        if breakable:
            free = or_(free, VideoRow.lease_owner == breakable)
        done = (VideoState.READY, VideoState.REJECTED)
        with self.session() as s:
            result = s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id, VideoRow.state.not_in(done), free)
                .values(lease_owner=holder, lease_until=until)
            )
            return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def renew(self, video_id: str, holder: str, until: datetime) -> bool:
        """Extend a lease this holder has; False when it is no longer its."""
        with self.session() as s:
            result = s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id, VideoRow.lease_owner == holder)
                .values(lease_until=until)
            )
            return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def release(self, video_id: str, holder: str) -> None:
        with self.session() as s:
            s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id, VideoRow.lease_owner == holder)
                .values(lease_owner=None, lease_until=None)
            )

    def set_failed(self, video_id: str, stage: str, error: str) -> None:
        with self.session() as s:
            s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id)
                .values(state=VideoState.FAILED, stage=stage, error=error)
            )

    def set_stage(self, video_id: str, stage: str) -> None:
        """Mark ``stage`` as running (state = stage), clearing any earlier failure."""
        with self.session() as s:
            s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id)
                .values(state=stage, stage=stage, error=None)
            )
            job = s.get(JobRow, (video_id, stage))
            if job is None:
                s.add(JobRow(video_id=video_id, stage=stage, progress=0.0, started_at=_now()))
            else:
                job.progress, job.started_at, job.finished_at = 0.0, _now(), None

    def set_vision(self, video_id: str, vision: bool) -> None:
        with self.session() as s:
            s.execute(update(VideoRow).where(VideoRow.id == video_id).values(vision=vision))

    def set_progress(self, video_id: str, stage: str, fraction: float) -> None:
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.video_id == video_id, JobRow.stage == stage)
                .values(progress=min(max(fraction, 0.0), 1.0))
            )

    def commit_stage(
        self,
        video_id: str,
        stage: str,
        next_state: str,
        write: Callable[[Session], None],
        models: dict[str, Any] | None = None,
        **video_values: Any,
    ) -> None:
        """Write a stage's output and move the video to ``next_state`` in one transaction."""
        with self.session() as s:
            write(s)
            failpoint(f"commit:{stage}")  # crash tests: killed with the transaction open
            s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id)
                .values(state=next_state, stage=next_state, error=None, **video_values)
            )
            s.execute(
                update(JobRow)
                .where(JobRow.video_id == video_id, JobRow.stage == stage)
                .values(progress=1.0, finished_at=_now(), models=models)
            )

    def videos_in_language(self, owner: str, language: str) -> set[str]:
        """Ids of the owner's videos whose speech is in ``language`` (ISO 639-1)."""
        with self.session() as s:
            query = select(VideoRow.id).where(
                VideoRow.owner == owner, VideoRow.language == language
            )
            return set(s.scalars(query))

    def jobs(self, video_id: str) -> list[JobRow]:
        with self.session() as s:
            return list(s.scalars(select(JobRow).where(JobRow.video_id == video_id)))

    def progress(self, owner: str) -> dict[str, float]:
        """Fraction done of each video's current stage."""
        with self.session() as s:
            rows = s.execute(
                select(JobRow.video_id, JobRow.progress)
                .join(VideoRow, (VideoRow.id == JobRow.video_id) & (VideoRow.stage == JobRow.stage))
                .where(VideoRow.owner == owner)
            )
            return {vid: p for vid, p in rows}

    # Stage outputs ---------------------------------------------------------------------------

    @staticmethod
    def replace_segments(s: Session, video_id: str, segments: Sequence[Segment]) -> None:
        s.execute(delete(SegmentRow).where(SegmentRow.video_id == video_id))
        s.add_all(
            SegmentRow(
                id=f"{video_id}:{n}",
                video_id=video_id,
                no=n,
                start=seg.start,
                end=seg.end,
                text=seg.text,
                words=[[w.start, w.end, w.text] for w in seg.words],
            )
            for n, seg in enumerate(segments)
        )

    def replace_scenes(
        self, s: Session, owner: str, video_id: str, scenes: Sequence[Scene]
    ) -> None:
        s.execute(delete(SceneRow).where(SceneRow.video_id == video_id))
        s.add_all(
            SceneRow(
                id=sc.scene_id,
                video_id=video_id,
                owner=owner,
                no=sc.no,
                start=sc.start,
                end=sc.end,
                text=sc.text,
                keyframes=list(sc.keyframes),
            )
            for sc in scenes
        )
        self._replace_fts(s, "text", owner, video_id, {sc.scene_id: sc.text for sc in scenes})

    @staticmethod
    def set_keyframes(s: Session, keyframes: dict[str, list[str]]) -> None:
        for scene_id, files in keyframes.items():
            s.execute(update(SceneRow).where(SceneRow.id == scene_id).values(keyframes=files))

    def segments(self, video_id: str) -> list[Segment]:
        with self.session() as s:
            rows = s.scalars(
                select(SegmentRow).where(SegmentRow.video_id == video_id).order_by(SegmentRow.no)
            )
            return [segment_from_row(r) for r in rows]

    def scenes(self, owner: str, video_id: str) -> list[Scene]:
        with self.session() as s:
            rows = s.scalars(
                select(SceneRow)
                .where(SceneRow.video_id == video_id, SceneRow.owner == owner)
                .order_by(SceneRow.no)
            )
            return [scene_from_row(r) for r in rows]

    def scene_counts(self, owner: str) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(
                select(SceneRow.video_id, func.count())
                .where(SceneRow.owner == owner)
                .group_by(SceneRow.video_id)
            )
            return {vid: n for vid, n in rows}

    def cover_keyframes(self, owner: str) -> dict[str, tuple[str, str]]:
        """Per video of the owner: (scene id, keyframe path) of its middle scene's middle
        keyframe, the picture that stands for the video in the app's library grid."""
        with self.session() as s:
            rows = s.execute(
                select(SceneRow.video_id, SceneRow.id, SceneRow.keyframes)
                .where(SceneRow.owner == owner)
                .order_by(SceneRow.video_id, SceneRow.no)
            )
            framed: dict[str, list[tuple[str, list[str]]]] = {}
            for video_id, scene_id, keyframes in rows:
                if keyframes:
                    framed.setdefault(video_id, []).append((scene_id, keyframes))
        covers = {}
        for video_id, scenes in framed.items():
            scene_id, keyframes = scenes[len(scenes) // 2]
            covers[video_id] = (scene_id, keyframes[len(keyframes) // 2])
        return covers

    def delete_video(self, video_id: str) -> None:
        """Every catalog row of a video, in one transaction."""
        with self.session() as s:
            self._drop_outputs(s, video_id)
            s.execute(delete(JobRow).where(JobRow.video_id == video_id))
            s.execute(delete(VideoRow).where(VideoRow.id == video_id))

    def _drop_outputs(self, s: Session, video_id: str) -> None:
        """Everything ingest derived from a video's media: transcript, scenes and their full
        text indexes, on-screen text, faces."""
        if self.is_sqlite:
            for fts in ("scene_fts", "screen_fts"):
                s.execute(text(f"DELETE FROM {fts} WHERE video_id = :v"), {"v": video_id})
        for table in (FaceRow, ScreenLineRow, SceneRow, SegmentRow):
            s.execute(delete(table).where(table.video_id == video_id))

    def replace_screen_lines(
        self, s: Session, owner: str, video_id: str, lines: Sequence[ScreenLine],
        screen_text: dict[str, str],
    ) -> None:  # fmt: skip
        """A video's on-screen lines and each scene's distinct screen text (and its index)."""
        s.execute(delete(ScreenLineRow).where(ScreenLineRow.video_id == video_id))
        counts: dict[tuple[str, int], int] = {}
        rows = []
        for line in lines:
            key = (line.scene_id, line.keyframe)
            n = counts[key] = counts.get(key, -1) + 1
            rows.append(ScreenLineRow(
                id=f"{line.scene_id}:{line.keyframe}:{n}", scene_id=line.scene_id,
                video_id=video_id, owner=owner, keyframe=line.keyframe, text=line.text,
                box=[list(point) for point in line.box], confidence=line.confidence,
            ))  # fmt: skip
        s.add_all(rows)
        s.execute(update(SceneRow).where(SceneRow.video_id == video_id).values(screen_text=""))
        for scene_id, value in screen_text.items():
            s.execute(update(SceneRow).where(SceneRow.id == scene_id).values(screen_text=value))
        self._replace_fts(s, "screen", owner, video_id, screen_text)

    def _replace_fts(
        self, s: Session, field: str, owner: str, video_id: str, texts: dict[str, str]
    ) -> None:
        """A video's rows in the SQLite FTS5 table of ``field``, or its PostgreSQL tsvector
        column (scenes of the video not in ``texts`` get an empty one)."""
        if self.dialect == "postgresql":
            column = _FULL_TEXT[field][1]
            s.flush()  # the scene rows added in this session, before they are updated
            s.execute(
                text(f"UPDATE scenes SET {column} = to_tsvector('{TS_CONFIG}', '') "
                     "WHERE video_id = :v"),
                {"v": video_id},
            )  # fmt: skip
            if texts:
                s.execute(
                    text(f"UPDATE scenes SET {column} = to_tsvector('{TS_CONFIG}', :t) "
                         "WHERE id = :id"),
                    [{"id": sid, "t": tsvector_text(t)} for sid, t in texts.items()],
                )  # fmt: skip
            return
        if not self.is_sqlite:
            return
        table = _FULL_TEXT[field][0]
        s.execute(text(f"DELETE FROM {table} WHERE video_id = :v"), {"v": video_id})
        if texts:
            s.execute(
                text(
                    f"INSERT INTO {table}(scene_id, video_id, owner, text) VALUES (:id, :v, :o, :t)"
                ),
                [
                    {"id": sid, "v": video_id, "o": owner, "t": index_text(t)}
                    for sid, t in texts.items()
                ],
            )

    def screen_lines(self, owner: str, scene_ids: Sequence[str]) -> list[ScreenLine]:
        """The on-screen lines of these scenes (of ``owner``), keyframe by keyframe."""
        if not scene_ids:
            return []
        with self.session() as s:
            rows = s.scalars(
                select(ScreenLineRow)
                .where(ScreenLineRow.owner == owner, ScreenLineRow.scene_id.in_(scene_ids))
                .order_by(ScreenLineRow.scene_id, ScreenLineRow.keyframe, ScreenLineRow.id)
            )
            return [
                ScreenLine(r.scene_id, r.keyframe, r.text,
                           tuple((float(x), float(y)) for x, y in r.box), r.confidence)
                for r in rows
            ]  # fmt: skip

    def media_in_use(self, media_name: str) -> bool:
        with self.session() as s:
            count = s.scalar(
                select(func.count()).select_from(VideoRow).where(VideoRow.media_name == media_name)
            )
            return (count or 0) > 0

    # Search support ------------------------------------------------------------------------------

    def any_vision(self, owner: str) -> bool:
        """Whether any of the owner's ready videos has image vectors."""
        with self.session() as s:
            found = s.scalar(
                select(VideoRow.id)
                .where(VideoRow.owner == owner, VideoRow.state == VideoState.READY)
                .where(VideoRow.vision.is_(True))
                .limit(1)
            )
            return found is not None

    def ready_video_ids(self, owner: str) -> set[str]:
        with self.session() as s:
            return set(
                s.scalars(
                    select(VideoRow.id).where(
                        VideoRow.owner == owner, VideoRow.state == VideoState.READY
                    )
                )
            )

    def busiest_owners(self, limit: int) -> list[str]:
        """The owners with the most ready videos, most first (whose searches to warm up)."""
        with self.session() as s:
            rows = s.execute(
                select(VideoRow.owner, func.count())
                .where(VideoRow.state == VideoState.READY)
                .group_by(VideoRow.owner)
                .order_by(func.count().desc(), VideoRow.owner)
                .limit(limit)
            )
            return [owner for owner, _n in rows]

    def keyword_scores(
        self,
        owner: str,
        terms: Sequence[str],
        videos: Sequence[str],
        limit: int,
        field: str = "text",
    ) -> dict[str, float]:
        """Full-text relevance of scenes to any of ``terms``: the best ``limit`` scenes of
        ``owner`` (in ``videos`` if given), higher is better. ``field``: "text" (the
        transcript) or "screen" (the on-screen text).

        SQLite: FTS5's BM25. PostgreSQL: ``ts_rank`` of the scene's tsvector. The scales differ
        (BM25 about 0 to 20, ts_rank 0 to 1) and need not agree: fusion z-scores each signal or
        uses its ranks. Scenes of videos that are not ready are dropped by the caller, which
        knows them already.
        """
        if field not in _FULL_TEXT:
            raise ValueError(f"unknown full-text field {field!r}")
        if not terms:
            return {}
        if self.is_sqlite:
            return self._fts5_scores(owner, terms, videos, limit, _FULL_TEXT[field][0])
        if self.dialect == "postgresql":
            return self._tsvector_scores(owner, terms, videos, limit, _FULL_TEXT[field][1])
        return {}

    def _fts5_scores(
        self, owner: str, terms: Sequence[str], videos: Sequence[str], limit: int, table: str
    ) -> dict[str, float]:
        # Each term a quoted phrase (never query syntax); CJK runs as their bigrams' phrase.
        match = " OR ".join(
            '"' + " ".join(index_text(t).replace('"', "").split()) + '"' for t in terms
        )
        params: dict[str, Any] = {"q": match, "o": owner, "n": limit}
        video_clause = _video_filter(videos, params)
        # FTS5's own rank column (bm25, lower is better) sorts inside the index.
        sql = (
            f"SELECT scene_id, rank FROM {table} "
            f"WHERE {table} MATCH :q AND owner = :o{video_clause} ORDER BY rank LIMIT :n"
        )
        with self.session() as s:
            return {sid: -float(r) for sid, r in s.execute(text(sql), params)}

    def _tsvector_scores(
        self, owner: str, terms: Sequence[str], videos: Sequence[str], limit: int, column: str
    ) -> dict[str, float]:
        # One tsquery per term, OR-ed (as the FTS5 query is): a term is never parsed as query
        # syntax. English stop words become empty queries, which match nothing. A term is
        # prepared as the indexed text was (folded accents; a CJK run as the phrase of its pairs).
        query = " || ".join(f"phraseto_tsquery('{TS_CONFIG}', :t{i})" for i in range(len(terms)))
        params: dict[str, Any] = {f"t{i}": tsvector_text(t) for i, t in enumerate(terms)}
        params.update({"o": owner, "n": limit})
        video_clause = _video_filter(videos, params)
        # Normalisation 1 divides by 1 + log(words in the scene): a long scene does not win by
        # length alone (BM25's length normalisation does the same job on SQLite).
        sql = (
            f"SELECT id, ts_rank({column}, q, 1) AS score "
            f"FROM scenes, (SELECT {query} AS q) AS query "
            f"WHERE {column} @@ q AND owner = :o{video_clause} ORDER BY score DESC, id LIMIT :n"
        )
        with self.session() as s:
            return {sid: float(r) for sid, r in s.execute(text(sql), params)}

    def scenes_by_id(self, owner: str, ids: Sequence[str]) -> dict[str, tuple[Scene, str]]:
        """Scenes (with their video's file name) by id; ids of other owners are left out."""
        if not ids:
            return {}
        with self.session() as s:
            # By primary key; the owner is checked on the rows (an owner index here would make
            # SQLite walk all the owner's scenes).
            rows = s.execute(
                select(SceneRow, VideoRow.filename)
                .join(VideoRow, VideoRow.id == SceneRow.video_id)
                .where(SceneRow.id.in_(list(ids)))
            )
            return {
                row.id: (scene_from_row(row), filename)
                for row, filename in rows
                if row.owner == owner
            }

    def scene_listing(
        self,
        owner: str,
        videos: Sequence[str],
        offset: int,
        limit: int,
        only: set[str] | None = None,
    ) -> tuple[int, list[tuple[Scene, str]]]:
        """Scenes of ready videos in video and time order: (total, one page)."""
        where = [SceneRow.owner == owner, VideoRow.state == VideoState.READY]
        if videos:
            where.append(SceneRow.video_id.in_(list(videos)))
        if only is not None:
            where.append(SceneRow.id.in_(sorted(only)))
        with self.session() as s:
            total = s.scalar(
                select(func.count())
                .select_from(SceneRow)
                .join(VideoRow, VideoRow.id == SceneRow.video_id)
                .where(*where)
            )
            rows = s.execute(
                select(SceneRow, VideoRow.filename)
                .join(VideoRow, VideoRow.id == SceneRow.video_id)
                .where(*where)
                .order_by(VideoRow.created_at, VideoRow.id, SceneRow.no)
                .offset(offset)
                .limit(limit)
            )
            return int(total or 0), [(scene_from_row(r), f) for r, f in rows]

    def scene(self, owner: str, scene_id: str) -> tuple[Scene, str]:
        found = self.scenes_by_id(owner, [scene_id])
        if scene_id not in found:
            raise NotFound(f"no scene with id {scene_id!r}")
        return found[scene_id]

    # People and faces ----------------------------------------------------------------------------

    def person_by_name(self, owner: str, name: str) -> PersonRow:
        with self.session() as s:
            row = s.scalar(
                select(PersonRow).where(PersonRow.owner == owner, PersonRow.name == name)
            )
        if row is None:
            raise NotFound(f"no person named {name!r}")
        return row

    def people_rows(self, owner: str) -> list[PersonRow]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(PersonRow).where(PersonRow.owner == owner).order_by(PersonRow.name)
                )
            )

    def people_counts(self, owner: str) -> list[tuple[str, str, int, int]]:
        """(person id, name, photos, scenes they were matched in), by name; counted in SQL."""
        photos = (
            select(PersonPhotoRow.person_id, func.count().label("n"))
            .group_by(PersonPhotoRow.person_id)
            .subquery()
        )
        scenes = (
            select(FaceRow.person_id, func.count(func.distinct(FaceRow.scene_id)).label("n"))
            .where(FaceRow.owner == owner, FaceRow.person_id.is_not(None))
            .group_by(FaceRow.person_id)
            .subquery()
        )
        with self.session() as s:
            rows = s.execute(
                select(
                    PersonRow.id,
                    PersonRow.name,
                    func.coalesce(photos.c.n, 0),
                    func.coalesce(scenes.c.n, 0),
                )
                .outerjoin(photos, photos.c.person_id == PersonRow.id)
                .outerjoin(scenes, scenes.c.person_id == PersonRow.id)
                .where(PersonRow.owner == owner)
                .order_by(PersonRow.name)
            )
            return [(pid, name, int(p), int(n)) for pid, name, p, n in rows]

    def person_faces(self, owner: str) -> dict[str, str]:
        """Per person of the owner: a picture of their face (path relative to the library): the
        crop of their closest matched face in a video, else their first reference photo."""
        with self.session() as s:
            faces = s.execute(
                select(FaceRow.person_id, FaceRow.crop)
                .where(FaceRow.owner == owner, FaceRow.person_id.is_not(None))
                .order_by(FaceRow.person_id, FaceRow.score, FaceRow.id)
            )
            pictures: dict[str, str] = {}
            for person_id, crop in faces:
                if person_id is not None:
                    pictures.setdefault(person_id, crop)
            photos = s.execute(
                select(PersonPhotoRow.person_id, PersonPhotoRow.path)
                .join(PersonRow, PersonRow.id == PersonPhotoRow.person_id)
                .where(PersonRow.owner == owner)
                .order_by(PersonPhotoRow.id)
            )
            for person_id, path in photos:
                pictures.setdefault(person_id, path)
        return pictures

    def person_refs(self, owner: str, backend: str) -> tuple[list[str], list[list[float]]]:
        """Every reference face vector of the owner's people, with its person id."""
        with self.session() as s:
            rows = s.execute(
                select(PersonPhotoRow.person_id, PersonPhotoRow.vector)
                .join(PersonRow, PersonRow.id == PersonPhotoRow.person_id)
                .where(PersonRow.owner == owner, PersonPhotoRow.backend == backend)
                .order_by(PersonPhotoRow.id)
            )
            pairs = [(pid, vec) for pid, vec in rows]
        return [p for p, _ in pairs], [v for _, v in pairs]

    def faces(self, owner: str, video_id: str | None = None) -> list[FaceRow]:
        with self.session() as s:
            query = select(FaceRow).where(FaceRow.owner == owner)
            if video_id is not None:
                query = query.where(FaceRow.video_id == video_id)
            return list(s.scalars(query.order_by(FaceRow.id)))

    @staticmethod
    def replace_faces(s: Session, video_id: str, faces: Sequence[FaceRow]) -> None:
        s.execute(delete(FaceRow).where(FaceRow.video_id == video_id))
        s.add_all(faces)

    def set_matches(self, matches: dict[str, tuple[str | None, float | None]]) -> None:
        with self.session() as s:
            for face_id, (person_id, score) in matches.items():
                s.execute(
                    update(FaceRow)
                    .where(FaceRow.id == face_id)
                    .values(person_id=person_id, score=score)
                )

    def people_by_scene(self, owner: str, scene_ids: Sequence[str]) -> dict[str, list[str]]:
        """Names of the people matched in each scene, sorted."""
        if not scene_ids:
            return {}
        with self.session() as s:
            rows = s.execute(
                select(FaceRow.scene_id, PersonRow.name)
                .join(PersonRow, PersonRow.id == FaceRow.person_id)
                .where(FaceRow.owner == owner, FaceRow.scene_id.in_(list(scene_ids)))
                .distinct()
            )
            out: dict[str, list[str]] = {}
            for scene_id, name in rows:
                out.setdefault(scene_id, []).append(name)
        return {k: sorted(v) for k, v in out.items()}

    def scenes_with_people(self, owner: str, person_ids: Sequence[str]) -> set[str]:
        """Scenes in which every one of ``person_ids`` was matched."""
        with self.session() as s:
            rows = s.scalars(
                select(FaceRow.scene_id)
                .where(FaceRow.owner == owner, FaceRow.person_id.in_(list(person_ids)))
                .group_by(FaceRow.scene_id)
                .having(func.count(func.distinct(FaceRow.person_id)) == len(set(person_ids)))
            )
            return set(rows)

    # What probing found; ingesting a stored video again (`heimdex check --repair`) -----------

    @staticmethod
    def probe_figures(info: VideoInfo) -> dict[str, Any] | None:
        """What the validating job records of a probe: the header's duration and where the
        data ends (they differ for a stale header; the video's duration is the data's)."""
        if info.stream_duration_s is None:
            return None
        return {
            "duration_header_s": info.header_duration_s,
            "duration_stream_s": info.stream_duration_s,
        }

    def restart_ingest(self, video_id: str, info: VideoInfo) -> None:
        """Set an accepted video to be ingested again from transcription, as ``info`` (a new
        probe of its stored file) describes it: every output derived from its media (transcript,
        scenes, faces, later jobs) is dropped in the same transaction; its id, owner, name and
        stored file stay. Vectors and files are the caller's."""
        with self.session() as s:
            self._drop_outputs(s, video_id)
            s.execute(
                delete(JobRow).where(
                    JobRow.video_id == video_id, JobRow.stage != VideoState.VALIDATING
                )
            )
            s.execute(
                update(JobRow)
                .where(JobRow.video_id == video_id, JobRow.stage == VideoState.VALIDATING)
                .values(models=self.probe_figures(info))
            )
            s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id)
                .values(
                    **_probed(info),
                    vision=None,
                    state=VideoState.TRANSCRIBING,
                    stage=VideoState.TRANSCRIBING,
                    error=None,
                )
            )
