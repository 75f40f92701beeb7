"""The catalog: one SQLAlchemy database of videos, jobs, transcripts, scenes, people, accounts.

SQLite (WAL) is the embedded default, PostgreSQL the shared one (``HEIMDEX_DATABASE_URL``); the
schema (``store/schema.py``) is the same on both and kept by the migrations in
``store/migrations``. What a user owns is read and written through ``Catalog.for_owner(user)``:
repositories of videos, scenes and people with the owner bound when they are made, so no query
can forget it. ``Catalog`` itself keeps the connection and what is keyed by a video id the caller
got from such a look-up, or spans every owner: the ingest pipeline's stage writes (each stage
writes its output and moves the video's state in ONE transaction, `commit_stage`, so an
interrupted ingest resumes at the first unfinished stage and never sees half a stage), the ingest
leases, the worker's queue and the server's metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Engine,
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
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from heimdex_lab.errors import HeimdexError
from heimdex_lab.extras import needs
from heimdex_lab.failpoints import failpoint
from heimdex_lab.store import migrations
from heimdex_lab.store.accounts import Accounts
from heimdex_lab.store.people import PersonRepository
from heimdex_lab.store.scenes import SceneRepository
from heimdex_lab.store.schema import (
    FaceRow,
    JobRow,
    SceneRow,
    ScreenLineRow,
    SegmentRow,
    VideoRow,
    now_utc,
    probe_figures,
    probed_columns,
    segment_from_row,
)
from heimdex_lab.store.videos import VideoRepository
from heimdex_lab.types import Segment, VideoInfo, VideoState


def database_url(url: str) -> str:
    """``url`` with PostgreSQL URLs on the psycopg 3 driver: ``postgres://`` (as Supabase and
    Heroku print them) and a bare ``postgresql://`` would ask SQLAlchemy for psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@dataclass(frozen=True)
class OwnerStore:
    """What one owner has in the catalog: ``catalog.for_owner(user).videos.get(video_id)``."""

    owner: str
    videos: VideoRepository
    scenes: SceneRepository
    people: PersonRepository


class Catalog:
    """The catalog database: connection, schema upgrade, transactions; owned rows through
    `for_owner`, accounts through `accounts`."""

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

    def for_owner(self, owner: str) -> OwnerStore:
        """The repositories of ``owner``'s videos, scenes and people (the owner bound in each)."""
        return OwnerStore(owner, VideoRepository(self, owner), SceneRepository(self, owner),
                          PersonRepository(self, owner))  # fmt: skip

    @cached_property
    def accounts(self) -> Accounts:
        """Local accounts and API tokens (not owned: they are the owners)."""
        return Accounts(self)

    # Every owner's videos, and videos by an id already looked up for an owner ---------------

    def state_counts(self) -> dict[str, int]:
        """Videos by state across all owners (the server's metrics)."""
        with self.session() as s:
            rows = s.execute(select(VideoRow.state, func.count()).group_by(VideoRow.state))
            return {state: n for state, n in rows}

    def video_owner(self, video_id: str) -> str | None:
        """Whose video this is; only for a request already authorised by a signed URL."""
        with self.session() as s:
            return s.scalar(select(VideoRow.owner).where(VideoRow.id == video_id))

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
            VideoRow.lease_until < now_utc(),
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
                s.add(JobRow(video_id=video_id, stage=stage, progress=0.0, started_at=now_utc()))
            else:
                job.progress, job.started_at, job.finished_at = 0.0, now_utc(), None

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
                .values(progress=1.0, finished_at=now_utc(), models=models)
            )

    def jobs(self, video_id: str) -> list[JobRow]:
        with self.session() as s:
            return list(s.scalars(select(JobRow).where(JobRow.video_id == video_id)))

    # Stage outputs (written inside the stage's transaction ``s``) ---------------------------

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

    def media_in_use(self, media_name: str) -> bool:
        with self.session() as s:
            count = s.scalar(
                select(func.count()).select_from(VideoRow).where(VideoRow.media_name == media_name)
            )
            return (count or 0) > 0

    # Faces, restarting an ingest (`heimdex check --repair`) ---------------------------------

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
                .values(models=probe_figures(info))
            )
            s.execute(
                update(VideoRow)
                .where(VideoRow.id == video_id)
                .values(
                    **probed_columns(info),
                    vision=None,
                    state=VideoState.TRANSCRIBING,
                    stage=VideoState.TRANSCRIBING,
                    error=None,
                )
            )
