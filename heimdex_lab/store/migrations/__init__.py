"""Schema migrations of the catalog (Alembic), one history for SQLite and PostgreSQL.

``upgrade(engine)`` brings any catalog to the newest schema: an empty database, one made before
migrations existed (tables from ``create_all``, no ``alembic_version``: the baseline revision
adopts it), or one some revisions behind. The scripts ship inside the package, so no alembic.ini
is needed. To write a new revision: ``alembic.command.revision(alembic_config(), "why")``, then
add its id to ``REVISIONS``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from heimdex_lab.errors import HeimdexError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# Oldest first; a test checks this against the scripts in versions/.
REVISIONS = (
    "0001_baseline",
    "0002_postgres_fulltext",
    "0003_ingest_leases",
    "0004_screen_text",
    "0005_video_language",
    "0006_postgres_folded_fulltext",
)
BASELINE = REVISIONS[0]
HEAD = REVISIONS[-1]

# Objects the migrations own that the SQLAlchemy models do not map: the FTS5 table and its shadow
# tables on SQLite, the tsvector columns and their indexes on PostgreSQL.
UNMAPPED_TABLES = ("scene_fts", "screen_fts", "alembic_version")
UNMAPPED_COLUMNS = (("scenes", "ts"), ("scenes", "screen_ts"))
UNMAPPED_INDEXES = ("ix_scenes_ts", "ix_scenes_screen_ts")

# pg_advisory_xact_lock key: any constant, the same in every process that migrates the catalog.
_PG_LOCK = 0x4845494D  # "HEIM"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged scripts, running on ``connection`` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent))
    config.attributes["connection"] = connection
    return config


def current(engine: Engine) -> str | None:
    """The catalog's schema revision; None for an empty or pre-migration catalog."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the catalog's schema to ``revision``; a no-op (one query) when it is there already.

    Several processes may open one catalog at once: the first to take the migration lock
    migrates, the others wait for it and then find nothing left to do.
    """
    if revision == "head" and current(engine) == HEAD:
        return  # the common case: no Alembic import, no lock
    with _migration_lock(engine) as conn:
        found = _checked_revision(conn)
        if found is None and _has_tables(conn):
            log.info("adopting a catalog made before schema migrations: %s", _safe_url(engine))
        _run(conn, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` ("base": an empty database). Data in dropped
    tables and columns is lost."""
    with _migration_lock(engine) as conn:
        _checked_revision(conn)
        _run(conn, "downgrade", revision)


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, compare: Any) -> bool:
    """For autogenerate: leave out what the migrations own but the models do not map."""
    if kind == "table":
        return not any(name == t or (name or "").startswith(t + "_") for t in UNMAPPED_TABLES)
    if kind == "column":
        return (obj.table.name, name) not in UNMAPPED_COLUMNS
    if kind == "index":
        return name not in UNMAPPED_INDEXES
    return True


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the catalog's migration lock; committed when the block ends."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # A write lock from the start (pysqlite would begin lazily, at the first INSERT):
            # a second process waits here (busy_timeout), then sees the new revision.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        yield conn
        conn.commit()


def _checked_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    found = conn.scalar(text("SELECT version_num FROM alembic_version"))
    if found is not None and found not in REVISIONS:
        raise HeimdexError(
            f"the catalog's schema is at revision {found!r}, which this version of heimdex-lab "
            f"does not know (newest known: {HEAD!r}): it was upgraded by a newer version; "
            "upgrade heimdex-lab to open it"
        )
    return found


def _has_tables(conn: Connection) -> bool:
    return "videos" in inspect(conn).get_table_names()


def _run(conn: Connection, command_name: str, revision: str) -> None:
    from alembic import command

    getattr(command, command_name)(alembic_config(conn), revision)


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
