"""Work survives a restart of the server: a real `heimdex serve` killed with SIGKILL (as the OOM
killer, a power cut or a container restart does) resumes its videos when it starts again."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from heimdex_lab import Library
from heimdex_lab.check import check
from heimdex_lab.ingest.pipeline import STAGES
from heimdex_lab.types import IngestResult, VideoState
from tests.integration.test_resume import SAMPLE, _snapshot, _subprocess_env
from tests.postgres import PostgresServer
from tests.server import Server

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def uninterrupted(ingested: tuple[Library, list[IngestResult]]) -> dict[str, Any]:
    lib, results = ingested
    return _snapshot(lib, results[0].video_id)


def _wait_ready(url: str, video_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/videos/{video_id}/status").json()
            if status["state"] in ("ready", "failed", "rejected"):
                return status
            time.sleep(0.25)
    raise AssertionError(f"video {video_id} never finished: {status}")


@pytest.mark.parametrize(
    "stage", [VideoState.TRANSCRIBING, VideoState.EMBEDDING], ids=["transcribing", "embedding"]
)
def test_a_server_killed_mid_stage_resumes_the_video_when_it_starts_again(
    stage: VideoState, tmp_path: Path, tiny_clip: dict[str, Any], uninterrupted: dict[str, Any]
) -> None:
    library_dir = tmp_path / "library"
    library_dir.mkdir()
    # The failpoint SIGKILLs the server with the stage's transaction open, its outputs written.
    crashing = Server(library_dir, "local",
                      env=_subprocess_env(tiny_clip, HEIMDEX_FAILPOINT=f"commit:{stage.value}"),
                      log_name="crashing.log")  # fmt: skip
    try:
        with (SAMPLES / SAMPLE).open("rb") as f, httpx.Client(timeout=60) as client:
            sent = client.post(crashing.url + "/api/v1/videos", files={"file": (SAMPLE, f)})
        assert sent.status_code == 202, sent.text
        video_id = sent.json()["video_id"]
        assert crashing.proc.wait(timeout=300) == -signal.SIGKILL
    finally:
        crashing.stop()

    with Library.open(library_dir, **tiny_clip) as lib:
        (video,) = lib.videos().to_dicts()
        # Nobody works on it any more: shown as interrupted, not as progressing.
        assert (video["state"], video["stage"]) == ("interrupted", stage.value)

    restarted = Server(library_dir, "local", env=_subprocess_env(tiny_clip), log_name="again.log")
    try:
        status = _wait_ready(restarted.url, video_id)
    finally:
        restarted.stop()
    assert status["state"] == "ready", status

    with Library.open(library_dir, **tiny_clip) as lib:
        assert _snapshot(lib, video_id) == uninterrupted
        assert check(lib) == {"ok": True, "problems": []}
        assert list(lib.upload_dir.iterdir()) == [], "the received upload file is cleaned up"


def test_an_upload_cut_off_by_a_crash_leaves_no_file_and_no_row(tmp_path: Path) -> None:
    library_dir = tmp_path / "library"
    library_dir.mkdir()
    uploads = library_dir / "uploads"
    env = {"HEIMDEX_LEASE_S": "1"}
    server = Server(library_dir, "local", env=env, log_name="first.log")
    data = (SAMPLES / SAMPLE).read_bytes()
    head = (
        b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="cut.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(
            b"POST /api/v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b0undary\r\n"
            + f"Content-Length: {len(head) + len(data) + 14}\r\n\r\n".encode()
            + head
            + data[: len(data) // 2]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            p.stat().st_size > 0 for p in (uploads.iterdir() if uploads.is_dir() else ())
        ):
            time.sleep(0.05)
        server.proc.kill()  # SIGKILL while the body is half received
        server.proc.wait()
    assert [p for p in uploads.iterdir() if p.stat().st_size > 0], "the half upload was on disk"

    restarted = Server(library_dir, "local", env=env, log_name="second.log")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(uploads.iterdir()):
            time.sleep(0.1)
        assert list(uploads.iterdir()) == [], "the half-received file is removed"
        with Library.open(library_dir) as lib:
            assert lib.videos().frame.is_empty(), "an unfinished upload leaves no row"
    finally:
        restarted.stop()


def _cli(library: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heimdex_lab.cli", "--library", str(library), *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_two_servers_on_one_postgres_catalog_resume_a_batch_without_doing_a_video_twice(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    library_dir = tmp_path / "library"
    env = {**os.environ, "HEIMDEX_DATABASE_URL": postgres.create_database()}
    names = ("space_talk.mp4", "kitchen_cat.mkv", "silent_coins.webm")
    for name in names:  # each ingest is killed as its transcript is committed
        done = _cli(library_dir, {**env, "HEIMDEX_FAILPOINT": "commit:transcribing"},
                    "ingest", str(SAMPLES / name))  # fmt: skip
        assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    with Library.open(library_dir, database_url=env["HEIMDEX_DATABASE_URL"]) as lib:
        batch = lib.videos().frame
        assert batch["state"].to_list() == ["interrupted"] * 3

    servers = [
        Server(library_dir, "local", env=env, verbose=True, log_name=f"server-{n}.log")
        for n in (1, 2)
    ]
    try:
        for video_id in batch["video_id"]:
            assert _wait_ready(servers[0].url, video_id)["state"] == "ready"
    finally:
        for server in servers:
            server.stop()

    runs: Counter[tuple[str, str]] = Counter()
    for server in servers:
        for stage, video_id in re.findall(
            r"stage (\w+) of video (\w+)", server.log.read_text()
        ):  # the pipeline logs each stage it starts: "…: stage STAGE of video ID"
            runs[(stage, video_id)] += 1
    expected = {(s.value, v) for v in batch["video_id"] for s in STAGES}
    assert set(runs) == expected, "every remaining stage of every video ran"
    assert max(runs.values()) == 1, f"a stage ran twice: {runs}"
