"""Baseline: the catalog as versions before migrations made it (create_all, FTS5 on SQLite).

Each table (with its indexes) is created unless it exists, so this revision also adopts a
catalog made before migrations: that one has the tables of the version that last opened it, and
one from before the faces or API-token tables gains them here. The tables are a frozen copy:
later model changes go into later revisions, never here.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import JSON, Boolean, Column, DateTime, Float, ForeignKey, Integer, String, Text

revision: str = "0001_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCENE_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS scene_fts USING fts5("
    "scene_id UNINDEXED, video_id UNINDEXED, owner UNINDEXED, text, "
    "tokenize='porter unicode61')"
)

meta = sa.MetaData()

sa.Table(
    "users",
    meta,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("password_hash", String(256)),
)
sa.Table(
    "api_tokens",
    meta,
    Column("token_sha256", String(64), primary_key=True),
    Column("user", String(128), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
sa.Table(
    "videos",
    meta,
    Column("id", String(64), primary_key=True),
    Column("owner", String(128), nullable=False, index=True),
    Column("filename", Text, nullable=False),
    Column("sha256", String(64), index=True),
    Column("container", String(16)),
    Column("duration_s", Float),
    Column("width", Integer),
    Column("height", Integer),
    Column("fps", Float),
    Column("has_audio", Boolean),
    Column("size_bytes", Integer),
    Column("media_name", String(128)),
    Column("vision", Boolean),
    Column("state", String(32), nullable=False, index=True),
    Column("stage", String(32)),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("owner", "sha256", name="uq_videos_owner_sha256"),
)
sa.Table(
    "jobs",
    meta,
    Column("video_id", String(64), ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
    Column("stage", String(32), primary_key=True),
    Column("progress", Float, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("models", JSON),
)
sa.Table(
    "segments",
    meta,
    Column("id", String(96), primary_key=True),
    Column(
        "video_id",
        String(64),
        ForeignKey("videos.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("no", Integer, nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("text", Text, nullable=False),
    Column("words", JSON, nullable=False),
)
sa.Table(
    "scenes",
    meta,
    Column("id", String(96), primary_key=True),
    Column(
        "video_id",
        String(64),
        ForeignKey("videos.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("owner", String(128), nullable=False, index=True),
    Column("no", Integer, nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("text", Text, nullable=False),
    Column("keyframes", JSON, nullable=False),
)
sa.Table(
    "people",
    meta,
    Column("id", String(64), primary_key=True),
    Column("owner", String(128), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("owner", "name", name="uq_people_owner_name"),
)
sa.Table(
    "person_photos",
    meta,
    Column("id", String(96), primary_key=True),
    Column(
        "person_id",
        String(64),
        ForeignKey("people.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("path", Text, nullable=False),
    Column("vector", JSON, nullable=False),
    Column("backend", String(32), nullable=False),
    Column("source", Text, nullable=False),
)
sa.Table(
    "faces",
    meta,
    Column("id", String(128), primary_key=True),
    Column("scene_id", String(96), nullable=False, index=True),
    Column(
        "video_id",
        String(64),
        ForeignKey("videos.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("owner", String(128), nullable=False, index=True),
    Column("t", Float, nullable=False),
    Column("box", JSON, nullable=False),
    Column("crop", Text, nullable=False),
    Column("person_id", String(64), ForeignKey("people.id", ondelete="SET NULL"), index=True),
    Column("score", Float),
)


def upgrade() -> None:
    bind = op.get_bind()
    meta.create_all(bind, checkfirst=True)
    if bind.dialect.name == "sqlite":
        op.execute(SCENE_FTS)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS scene_fts")
    meta.drop_all(bind)
