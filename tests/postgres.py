"""A real PostgreSQL server in a temporary directory, for the catalog's PostgreSQL tests.

Uses the Debian ``postgresql`` package's binaries (``initdb``, ``pg_ctl``); CI installs it. As
root they run as the ``postgres`` user (``initdb`` refuses root), otherwise as the caller.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from tests.server import _free_port

PGBIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (fails with the fix when there is none)."""
    found = sorted(
        Path("/").glob(PGBIN_GLOB.lstrip("/")),
        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    )
    if not found or not (found[-1] / "initdb").is_file():
        raise RuntimeError(
            f"no PostgreSQL server binaries in {PGBIN_GLOB}: the catalog tests need them. "
            "Install the Debian package: apt-get install -y postgresql"
        )
    return found[-1]


class PostgresServer:
    """Started in __init__ (accepting connections when it returns), stopped by ``stop()``."""

    def __init__(self, database: str = "heimdex") -> None:
        self.bin = pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="heimdex-pg-"))
        # initdb refuses root: run the server as postgres, in a directory it owns.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "-o", options, "start")  # fmt: skip
        self._run("createdb", "-h", str(self.root), "-p", str(self.port), "-U", "postgres",
                  database)  # fmt: skip
        self.url = self.url_of(database)

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database on this server (one per test: nothing leaks between tests);
        its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_of(name)

    def stop(self) -> None:
        try:
            # Immediate: no shutdown checkpoint, the data directory is deleted next anyway.
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True
        )
        if result.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.is_file() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr}\n{log}")
