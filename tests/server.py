"""A real `heimdex serve` on 127.0.0.1 in a subprocess, for the app and API tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def cli(library: Path, *args: str, stdin: str = "") -> str:
    """``heimdex --library LIBRARY ARGS…`` in a subprocess; its stdout (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "heimdex_lab.cli", "--library", str(library), *args],
        input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """Started in __init__ (answers on ``url`` when it returns), stopped by ``stop()``."""

    def __init__(
        self,
        library: Path,
        user: str,
        auth: bool = False,
        env: dict[str, str] | None = None,
        verbose: bool = False,
        log_name: str | None = None,
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = library.parent / (log_name or f"serve-{user}.log")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "heimdex_lab.cli", *(["-v"] if verbose else []),
             "--library", str(library), "--user", user,
             "serve", *([] if auth else ["--no-auth"]), "--port", str(self.port)],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the app did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
