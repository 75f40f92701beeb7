"""A real ``chroma run`` of this venv on a free loopback port, for the Chroma-server tests and
``benchmarks/search.py --backend servers``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.server import _free_port

START_TIMEOUT_S = 90  # the CLI's imports take long on a busy machine


def heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200 and "nanosecond heartbeat" in json.load(response)
    except OSError:
        return False


@contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """Start ``chroma run`` with its data and log in ``folder``; yield its URL; stop it."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "chroma.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(folder / "data"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=log.open("w"), stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not heartbeat(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
