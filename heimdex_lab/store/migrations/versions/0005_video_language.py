"""The language spoken in each video: speech in more languages than English.

``language`` is the ISO 639-1 code the speech model detected on the video's first speech (None
when nothing was said, or for videos ingested before this revision), ``language_probability``
how sure it was (None when an English-only model was chosen by name). Indexed: search filters
by it. On SQLite, full-text rows holding CJK text are rewritten as the index now reads such text
(overlapping character pairs, ``store/fulltext.py``).

Revision ID: 0005_video_language
Revises: 0004_screen_text
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from heimdex_lab.store.fulltext import index_text

revision: str = "0005_video_language"
down_revision: str | Sequence[str] | None = "0004_screen_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("language", sa.String(16)))
        batch.add_column(sa.Column("language_probability", sa.Float()))
        batch.create_index("ix_videos_language", ["language"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in ("scene_fts", "screen_fts"):
            rows = bind.execute(sa.text(f"SELECT rowid, text FROM {table}")).all()
            for rowid, text in rows:
                if text and index_text(text) != text:
                    bind.execute(
                        sa.text(f"UPDATE {table} SET text = :t WHERE rowid = :r"),
                        {"t": index_text(text), "r": rowid},
                    )


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_index("ix_videos_language")
        batch.drop_column("language_probability")
        batch.drop_column("language")
