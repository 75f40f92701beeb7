"""PostgreSQL: full-text search over scene text, 64-bit file sizes. Nothing to do on SQLite.

Scene text gets a generated tsvector column (english stemming, as FTS5's porter tokenizer does
on SQLite) with a GIN index: PostgreSQL keeps it in step with ``scenes.text``, so no write path
needs sync code. Before this revision a PostgreSQL catalog had no keyword search at all, and a
file over 2 GiB overflowed ``size_bytes`` (SQLite's INTEGER is 64-bit already).

Revision ID: 0002_postgres_fulltext
Revises: 0001_baseline
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision: str = "0002_postgres_fulltext"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The text search configuration; SceneRepository.keyword_scores parses queries with the same one.
TS_CONFIG = "english"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    op.add_column(
        "scenes",
        sa.Column(
            "ts", TSVECTOR(), sa.Computed(f"to_tsvector('{TS_CONFIG}', \"text\")", persisted=True)
        ),
    )
    op.create_index("ix_scenes_ts", "scenes", ["ts"], postgresql_using="gin")
    op.alter_column("videos", "size_bytes", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if not _postgres():
        return
    # Fails if a stored size no longer fits in 32 bits: that catalog cannot go back.
    op.alter_column("videos", "size_bytes", type_=sa.Integer(), existing_type=sa.BigInteger())
    op.drop_index("ix_scenes_ts", table_name="scenes")
    op.drop_column("scenes", "ts")
