"""Alembic environment: runs the catalog's migrations on the connection handed in.

``heimdex_lab.store.migrations.upgrade`` passes a connection that already holds the migration
lock inside a transaction; every revision runs in it and it commits once, so a catalog is never
left half-migrated. Given no connection (a developer's ``alembic`` call), ``sqlalchemy.url`` is
used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from heimdex_lab.store.migrations import include_object
from heimdex_lab.store.schema import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or use heimdex_lab.store.migrations.upgrade()")
    with create_engine(url).begin() as conn:
        run_migrations(conn)
