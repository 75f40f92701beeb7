"""Ingest leases and queued uploads: work survives a restart of the server.

``lease_owner``/``lease_until`` say which process is ingesting a video and until when its claim
holds (it renews the claim while it works): a video in a stage without a live lease was
interrupted, and any worker may take it. ``upload_name`` is the received file of an upload that
is queued but not yet ingested (under ``<library>/uploads``), so a restart can still ingest it.

Revision ID: 0003_ingest_leases
Revises: 0002_postgres_fulltext
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_ingest_leases"
down_revision: str | Sequence[str] | None = "0002_postgres_fulltext"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(128)))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("upload_name", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("upload_name")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
