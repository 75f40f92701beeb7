"""On-screen text: the lines read in keyframes, each scene's distinct lines, and their index.

``screen_lines`` keeps every line with its keyframe, 4-point box and confidence (the app draws
the boxes); ``scenes.screen_text`` holds a scene's distinct lines for search and display. Full
text over it: an FTS5 table ``screen_fts`` on SQLite (as ``scene_fts`` is for the transcript),
a generated tsvector with a GIN index on PostgreSQL.

Revision ID: 0004_screen_text
Revises: 0003_ingest_leases
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision: str = "0004_screen_text"
down_revision: str | Sequence[str] | None = "0003_ingest_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS_CONFIG = "english"  # as 0002: queries are parsed with the same configuration
SCREEN_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS screen_fts USING fts5("
    "scene_id UNINDEXED, video_id UNINDEXED, owner UNINDEXED, text, "
    "tokenize='porter unicode61')"
)


def upgrade() -> None:
    op.create_table(
        "screen_lines",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("scene_id", sa.String(96), nullable=False, index=True),
        sa.Column(
            "video_id",
            sa.String(64),
            sa.ForeignKey("videos.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("owner", sa.String(128), nullable=False, index=True),
        sa.Column("keyframe", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("scenes") as batch:
        batch.add_column(sa.Column("screen_text", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SCREEN_FTS)
    elif op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "scenes",
            sa.Column(
                "screen_ts",
                TSVECTOR(),
                sa.Computed(f"to_tsvector('{TS_CONFIG}', \"screen_text\")", persisted=True),
            ),
        )
        op.create_index("ix_scenes_screen_ts", "scenes", ["screen_ts"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS screen_fts")
    elif op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_scenes_screen_ts", table_name="scenes")
        op.drop_column("scenes", "screen_ts")
    with op.batch_alter_table("scenes") as batch:
        batch.drop_column("screen_text")
    op.drop_table("screen_lines")
