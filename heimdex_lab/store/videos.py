"""One owner's videos in the catalog: look-ups, listings and the rows ingest adds.

Opened through ``Catalog.for_owner(user).videos``: the owner is bound when the repository is
made, so no query here can leave it out, and another owner's id is NotFound like an unknown one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from heimdex_lab.errors import NotFound
from heimdex_lab.store.schema import JobRow, VideoRow, now_utc, probe_figures, probed_columns
from heimdex_lab.types import VideoInfo, VideoState

if TYPE_CHECKING:
    from heimdex_lab.store.catalog import Catalog


class VideoRepository:
    """The videos of one owner."""

    def __init__(self, catalog: Catalog, owner: str) -> None:
        self.catalog = catalog
        self.owner = owner

    def get(self, video_id: str) -> VideoRow:
        """The video; NotFound for an unknown id or another owner's."""
        with self.catalog.session() as s:
            row = s.scalar(
                select(VideoRow).where(VideoRow.id == video_id, VideoRow.owner == self.owner)
            )
        if row is None:
            raise NotFound(f"no video with id {video_id!r}")
        return row

    def find_by_sha(self, sha256: str) -> VideoRow | None:
        with self.catalog.session() as s:
            return s.scalar(
                select(VideoRow).where(VideoRow.owner == self.owner, VideoRow.sha256 == sha256)
            )

    def all(self) -> list[VideoRow]:
        """Every video, oldest first."""
        with self.catalog.session() as s:
            return list(
                s.scalars(
                    select(VideoRow)
                    .where(VideoRow.owner == self.owner)
                    .order_by(VideoRow.created_at)
                )
            )

    def unfinished(self) -> list[VideoRow]:
        done = (VideoState.READY, VideoState.REJECTED)
        return [v for v in self.all() if v.state not in done]

    def in_language(self, language: str) -> set[str]:
        """Ids of the videos whose speech is in ``language`` (ISO 639-1)."""
        with self.catalog.session() as s:
            query = select(VideoRow.id).where(
                VideoRow.owner == self.owner, VideoRow.language == language
            )
            return set(s.scalars(query))

    def progress(self) -> dict[str, float]:
        """Fraction done of each video's current stage."""
        with self.catalog.session() as s:
            rows = s.execute(
                select(JobRow.video_id, JobRow.progress)
                .join(VideoRow, (VideoRow.id == JobRow.video_id) & (VideoRow.stage == JobRow.stage))
                .where(VideoRow.owner == self.owner)
            )
            return {vid: p for vid, p in rows}

    def any_vision(self) -> bool:
        """Whether any ready video has image vectors."""
        with self.catalog.session() as s:
            found = s.scalar(
                select(VideoRow.id)
                .where(VideoRow.owner == self.owner, VideoRow.state == VideoState.READY)
                .where(VideoRow.vision.is_(True))
                .limit(1)
            )
            return found is not None

    def ready_ids(self) -> set[str]:
        with self.catalog.session() as s:
            return set(
                s.scalars(
                    select(VideoRow.id).where(
                        VideoRow.owner == self.owner, VideoRow.state == VideoState.READY
                    )
                )
            )

    # Rows ingest adds ------------------------------------------------------------------------

    def add_rejected(self, video_id: str, filename: str, reason: str) -> VideoRow:
        row = VideoRow(
            id=video_id,
            owner=self.owner,
            filename=filename,
            state=VideoState.REJECTED,
            stage=VideoState.VALIDATING,
            error=reason,
        )
        with self.catalog.session() as s:
            s.add(row)
        return row

    def add_accepted(
        self, video_id: str, filename: str, sha256: str, info: VideoInfo, media_name: str
    ) -> VideoRow:
        """Record a validated video whose media is already stored; next stage: transcribing."""
        row = VideoRow(
            id=video_id,
            owner=self.owner,
            filename=filename,
            sha256=sha256,
            **probed_columns(info),
            size_bytes=info.size_bytes,
            media_name=media_name,
            state=VideoState.TRANSCRIBING,
            stage=VideoState.TRANSCRIBING,
        )
        with self.catalog.session() as s:
            s.add(row)
            s.flush()  # the video row first: jobs reference it
            s.add(
                JobRow(
                    video_id=video_id,
                    stage=VideoState.VALIDATING,
                    progress=1.0,
                    started_at=now_utc(),
                    finished_at=now_utc(),
                    models=probe_figures(info),
                )
            )
        return row

    def add_queued(self, video_id: str, filename: str, upload_name: str) -> bool:
        """Record a received upload waiting for ingest; False when the id is taken already
        (the same bytes are in the library: ingesting them finds that video)."""
        try:
            with self.catalog.session() as s:
                if s.get(VideoRow, video_id) is not None:
                    return False
                s.add(VideoRow(id=video_id, owner=self.owner, filename=filename,
                               state=VideoState.QUEUED, stage=VideoState.QUEUED,
                               upload_name=upload_name))  # fmt: skip
        except IntegrityError:  # another process queued the same id a moment ago
            return False
        return True
