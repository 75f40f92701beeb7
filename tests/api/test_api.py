"""The HTTP API on a real `heimdex serve` (127.0.0.1), a real library and real ingest.

One server for the module, with accounts on: alice and bob have bearer tokens made by
`heimdex users token`. Tests run in file order; the last one deletes alice's video.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heimdex_lab import Library
from tests.server import Server, cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
LIMIT = 5_000_000  # the server's upload limit here: the samples are far smaller
RATE = 240  # requests a minute per token


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api") / "library"


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[Server]:
    library.mkdir(parents=True)
    for name in ("alice", "bob"):
        cli(library, "users", "add", name, stdin=f"{name}-secret-pw\n")
    env = {"HEIMDEX_MAX_UPLOAD_BYTES": str(LIMIT), "HEIMDEX_API_RATE_LIMIT": f"{RATE}/minute"}
    srv = Server(library, "local", auth=True, env=env)
    yield srv
    srv.stop()


def _client(server: Server, library: Path, user: str | None) -> httpx.Client:
    headers = {}
    if user is not None:
        headers["Authorization"] = f"Bearer {cli(library, 'users', 'token', user)}"
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def alice(server: Server, library: Path) -> Iterator[httpx.Client]:
    with _client(server, library, "alice") as client:
        yield client


@pytest.fixture(scope="module")
def bob(server: Server, library: Path) -> Iterator[httpx.Client]:
    with _client(server, library, "bob") as client:
        yield client


def _wait_until_done(client: httpx.Client, video_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/videos/{video_id}/status").json()
        seen.append(status["state"])
        if status["state"] in ("ready", "failed", "rejected"):
            status["seen"] = seen
            return status  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"{video_id} still {seen[-1]} after {timeout} s")


@pytest.fixture(scope="module")
def talk(alice: httpx.Client) -> dict[str, Any]:
    """space_talk.mp4 uploaded by alice through the API, polled until ready."""
    with (SAMPLES / "space_talk.mp4").open("rb") as fh:
        response = alice.post("/api/v1/videos", files={"file": ("space_talk.mp4", fh, "video/mp4")})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["state"] == "queued" and accepted["filename"] == "space_talk.mp4"
    status = _wait_until_done(alice, accepted["video_id"])
    assert status["state"] == "ready", status
    return {**accepted, "status": status}


def test_upload_poll_search_and_preview_plays_from_the_scene_start(
    alice: httpx.Client, talk: dict[str, Any], library: Path
) -> None:
    video_id = talk["video_id"]
    assert talk["status"]["progress"] == 1.0
    video = alice.get(f"/api/v1/videos/{video_id}").json()
    assert (video["filename"], video["state"], video["scenes"]) == ("space_talk.mp4", "ready", 3)
    assert [v["video_id"] for v in alice.get("/api/v1/videos").json()] == [video_id]

    found = alice.get("/api/v1/search", params={"q": "she described going into orbit", "k": 3})
    assert found.status_code == 200
    first = found.json()["results"][0]
    assert (first["video_id"], first["start"], first["end"]) == (video_id, 5.04, 9.84)
    assert "**orbit**" in first["snippet"]
    # The language spoken is on the video and filters the search.
    assert video["language"] == "en"
    in_english = {"q": "orbit", "language": "en"}
    assert alice.get("/api/v1/search", params=in_english).json()["total"] == 3
    assert alice.get("/api/v1/search", params={"q": "orbit", "language": "es"}).json() == {
        "query": "orbit", "total": 0, "page": 1, "k": 10, "results": []
    }  # fmt: skip
    thumb = alice.get(first["keyframe"])
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"  # a JPEG

    scene = alice.get(f"/api/v1/scenes/{first['scene_id']}").json()
    assert scene["video_id"] == video_id and "orbit" in scene["transcript"]
    assert len(scene["neighbours"]) == 2

    preview = alice.get(f"/api/v1/scenes/{first['scene_id']}/preview").json()
    assert preview["url"].endswith("#t=5.04,9.84")
    stored = Library.open(library, user="alice").media_path(video_id).read_bytes()
    # A player without headers: no token, only the signed URL; it seeks with a range request.
    ranged = httpx.get(preview["url"].split("#")[0], headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.headers["accept-ranges"] == "bytes"
    assert ranged.headers["content-range"] == f"bytes 1000-1999/{len(stored)}"
    assert ranged.content == stored[1000:2000]


def test_search_labels_confidence_and_filters_by_it(
    alice: httpx.Client, talk: dict[str, Any]
) -> None:
    everything = alice.get("/api/v1/search", params={"q": "orbit"}).json()
    levels = [r["confidence"] for r in everything["results"]]
    assert levels[0] == "high" and set(levels) <= {"high", "medium", "low"}  # the word is said
    sure = alice.get("/api/v1/search", params={"q": "orbit", "min_confidence": "high"}).json()
    assert sure["total"] == levels.count("high") < everything["total"]
    assert [r["scene_id"] for r in sure["results"]] == [
        r["scene_id"] for r in everything["results"] if r["confidence"] == "high"
    ]
    nothing = {"q": "penguins on an iceberg", "min_confidence": "medium"}
    assert alice.get("/api/v1/search", params=nothing).json()["total"] == 0
    bad = alice.get("/api/v1/search", params={"q": "orbit", "min_confidence": "sure"})
    assert bad.status_code == 422


def test_search_grouped_by_video_and_the_video_page(
    alice: httpx.Client, talk: dict[str, Any]
) -> None:
    video_id = talk["video_id"]
    plain = alice.get("/api/v1/search", params={"q": "orbit"}).json()
    assert list(plain) == ["query", "total", "page", "k", "results"]  # the default is unchanged
    grouped = alice.get("/api/v1/search", params={"q": "orbit", "group": "video"}).json()
    assert list(grouped) == ["query", "group", "total", "page", "k", "videos"]
    (video,) = grouped["videos"]
    assert (grouped["group"], grouped["total"], video["video_id"]) == ("video", 1, video_id)
    assert video["matched"] == plain["total"] and video["confidence"] == "high"
    assert [s["scene_id"] for s in video["scenes"]] == [r["scene_id"] for r in plain["results"][:3]]
    assert video["scenes"][0]["keyframe"] == plain["results"][0]["keyframe"]  # a URL here too
    assert alice.get("/api/v1/search", params={"q": "orbit", "group": "x"}).status_code == 422

    sentences = alice.get(f"/api/v1/videos/{video_id}/transcript").json()
    said = "The astronaut described her first flight into orbit."
    assert [s["text"] for s in sentences][1] == said
    assert sentences == sorted(sentences, key=lambda s: s["start"])
    page = alice.get(f"/api/v1/videos/{video_id}/page", params={"q": "orbit"}).json()
    assert (page["filename"], page["media"], page["query"]) == (
        "space_talk.mp4", f"/media/{video_id}", "orbit"
    )  # fmt: skip
    assert page["sentences"] == sentences and len(page["scenes"]) == 3
    keyframe = alice.get(page["scenes"][1]["keyframes"][0])
    assert keyframe.status_code == 200 and keyframe.headers["content-type"] == "image/jpeg"
    assert page["matches"][0] == {
        "scene_id": f"{video_id}:1", "start": 5.04, "end": 9.84,
        "score": page["matches"][0]["score"], "confidence": "high",
    }  # fmt: skip
    weak = {"q": "penguins on an iceberg", "min_confidence": "medium"}
    sure = alice.get(f"/api/v1/videos/{video_id}/page", params=weak)
    assert sure.json()["matches"] == []
    assert alice.get("/api/v1/videos/nope/page").status_code == 404
    assert alice.get("/api/v1/videos/nope/transcript").json()["error"] == "not_found"


def test_bad_uploads_are_refused_with_the_reason(
    alice: httpx.Client, server: Server, library: Path
) -> None:
    text = alice.post("/api/v1/videos", files={"file": ("holiday.mp4", b"not a video " * 50)})
    assert text.status_code == 415
    assert text.json() == {
        "error": "not_a_video",
        "detail": "holiday.mp4: not a video file (accepted: MP4, MOV, AVI, MKV, WebM)",
    }
    # Looks like an MP4 at first, but the index is missing: accepted for probing, then rejected.
    head = (SAMPLES / "space_talk.mp4").read_bytes()
    cut = head[: len(head) * 2 // 5]
    truncated = alice.post("/api/v1/videos", files={"file": ("cut.mp4", cut)})
    assert truncated.status_code == 202
    status = _wait_until_done(alice, truncated.json()["video_id"])
    assert (status["state"], status["filename"]) == ("rejected", "cut.mp4")
    assert status["error"]

    # Over the limit, sent without a Content-Length: refused while streaming, nothing kept.
    def body() -> Iterator[bytes]:
        yield b"--xx\r\nContent-Disposition: form-data; name=file; filename=big.mp4\r\n\r\n"
        yield head[:64]
        for _ in range(LIMIT // 65536 + 2):
            yield b"\0" * 65536
        yield b"\r\n--xx--\r\n"

    big = alice.post(
        "/api/v1/videos",
        content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=xx"},
    )
    assert big.status_code == 413 and big.json()["error"] == "too_large"
    assert "big.mp4" in big.json()["detail"]
    # A declared length over the limit is answered before a byte of the body is sent.
    token = alice.headers["authorization"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
        raw.sendall(
            f"POST /api/v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
            f"Content-Type: multipart/form-data; boundary=xx\r\n"
            f"Content-Length: {LIMIT * 2}\r\n\r\n".encode()
        )
        assert raw.recv(65536).startswith(b"HTTP/1.1 413 ")
    assert list((library / "uploads").iterdir()) == []
    assert alice.post("/api/v1/videos", json={"file": "x"}).status_code == 415
    # Other bodies are small: refused over 1 MiB, declared or streamed without a length.
    huge = {"name": "x" * (2 << 20)}
    assert alice.post("/api/v1/people", json=huge).json()["error"] == "too_large"
    streamed = alice.post(
        "/api/v1/people",
        content=iter([b'{"name": "', b"x" * (2 << 20), b'"}']),
        headers={"Content-Type": "application/json"},
    )
    assert streamed.status_code == 413 and streamed.json()["error"] == "too_large"
    assert alice.get("/api/v1/search", params={"k": 0}).json()["error"] == "invalid_request"


def test_another_user_gets_404_for_every_id_of_alice(
    alice: httpx.Client, bob: httpx.Client, talk: dict[str, Any], server: Server
) -> None:
    video_id = talk["video_id"]
    first = alice.get("/api/v1/search", params={"q": "orbit"}).json()["results"][0]
    scene_id = first["scene_id"]
    person = alice.post("/api/v1/people", json={"name": "Eileen Collins"}).json()
    for method, path in [
        ("GET", f"/api/v1/videos/{video_id}"),
        ("GET", f"/api/v1/videos/{video_id}/status"),
        ("GET", f"/api/v1/videos/{video_id}/transcript"),
        ("GET", f"/api/v1/videos/{video_id}/page"),
        ("POST", f"/api/v1/videos/{video_id}/retry"),
        ("DELETE", f"/api/v1/videos/{video_id}"),
        ("GET", f"/api/v1/scenes/{scene_id}"),
        ("GET", f"/api/v1/scenes/{scene_id}/preview"),
        ("GET", f"/api/v1/scenes/{scene_id}/keyframe"),
        ("GET", f"/media/{video_id}"),
    ]:
        response = bob.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not_found"
        assert "alice" not in response.text
    photo = bob.post(f"/api/v1/people/{person['person_id']}/photos",
                     files={"photos": ("a.jpg", b"\xff\xd8\xff")})  # fmt: skip
    assert photo.status_code == 404
    assert bob.get("/api/v1/search", params={"q": "orbit"}).json()["total"] == 0
    assert bob.get("/api/v1/videos").json() == [] and bob.get("/api/v1/people").json() == []
    assert alice.get(f"/api/v1/videos/{video_id}").status_code == 200  # bob's delete did nothing

    anonymous = httpx.get(f"{server.url}/api/v1/videos")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    assert httpx.get(f"{server.url}/media/{video_id}").status_code == 401
    preview = alice.get(f"/api/v1/scenes/{scene_id}/preview").json()["url"].split("#")[0]
    forged = re.sub(r"sig=([0-9a-f])", lambda m: "sig=" + ("0" if m[1] != "0" else "1"), preview)
    assert httpx.get(forged).status_code == 403
    expired = re.sub(r"exp=\d+", "exp=1000", preview)
    assert httpx.get(expired).status_code == 403


def test_people_enrolment_refuses_a_photo_without_one_face(
    alice: httpx.Client, tmp_path: Path
) -> None:
    import numpy as np
    import skimage.data
    from PIL import Image

    person = alice.post("/api/v1/people", json={"name": "Eileen Collins"})
    assert person.status_code == 201
    person_id = person.json()["person_id"]
    blank = tmp_path / "wall.jpg"
    Image.fromarray(np.full((300, 300, 3), 200, np.uint8)).save(blank)
    photos = f"/api/v1/people/{person_id}/photos"
    refused = alice.post(photos, files={"photos": ("wall.jpg", blank.read_bytes(), "image/jpeg")})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("wall.jpg: no face found")
    face = tmp_path / "eileen.jpg"
    Image.fromarray(skimage.data.astronaut()).save(face)
    added = alice.post(photos, files={"photos": ("eileen.jpg", face.read_bytes(), "image/jpeg")})
    assert added.status_code == 200, added.text
    assert added.json()["photos"] == 1
    people = alice.get("/api/v1/people").json()
    assert [(p["name"], p["photos"]) for p in people] == [("Eileen Collins", 1)]


def test_rate_limit_answers_429_with_retry_after(server: Server, library: Path) -> None:
    with _client(server, library, "carol") as carol, _client(server, library, "carol") as other:
        codes = [carol.get("/api/v1/videos").status_code for _ in range(RATE + 1)]
        assert codes[:RATE] == [200] * RATE
        limited = carol.get("/api/v1/videos")
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert other.get("/api/v1/videos").status_code == 200  # limits are per token
        cli(library, "users", "token", "carol", "--revoke")
        assert other.get("/api/v1/videos").status_code == 401


def test_health_metrics_docs_and_access_log(
    alice: httpx.Client, talk: dict[str, Any], server: Server
) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz", timeout=60)
    assert ready.status_code == 200 and ready.json()["ready"] is True
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'heimdex_videos{state="ready"} 1.0' in metrics
    assert re.search(r'heimdex_ingest_stage_duration_seconds_count\{stage="transcribing"\} [1-9]',
                     metrics)  # fmt: skip
    assert "heimdex_ingest_queue_length 0.0" in metrics
    assert re.search(
        r'heimdex_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/v1/search",status="200"\} [1-9]', metrics
    )  # fmt: skip

    spec = httpx.get(f"{server.url}/openapi.json").json()
    video, scene = "/api/v1/videos/{video_id}", "/api/v1/scenes/{scene_id}"
    for path in ("/api/v1/videos", video, f"{video}/status", f"{video}/retry", "/api/v1/search",
                 scene, f"{scene}/preview", f"{scene}/keyframe", "/media/{video_id}",
                 "/api/v1/people", "/api/v1/people/{person_id}/photos", "/healthz", "/readyz",
                 "/metrics"):  # fmt: skip
        assert path in spec["paths"], path
        for operation in spec["paths"][path].values():
            assert operation.get("description") or operation.get("summary"), path
    icon = httpx.get(f"{server.url}/favicon.ico")  # browsers ask whatever the page says
    assert icon.status_code == 200 and icon.content[:4] == b"\0\0\1\0"
    docs = httpx.get(f"{server.url}/docs").text
    assert "/openapi.json" in docs and not re.search(r"(src|href)=\"https?://", docs)

    lines = [json.loads(x) for x in server.log.read_text().splitlines() if x.startswith("{")]
    search = [x for x in lines if x["route"] == "/api/v1/search" and x["user"] == "alice"]
    assert search and search[0]["status"] == 200 and search[0]["latency_ms"] > 0
    assert len({x["request_id"] for x in lines}) == len(lines)


def test_delete_removes_media_scenes_and_vectors(
    alice: httpx.Client, talk: dict[str, Any], library: Path
) -> None:
    video_id = talk["video_id"]
    lib = Library.open(library, user="alice")
    media = lib.media_path(video_id)

    def vectors() -> int:
        client = lib.vectors.client
        return sum(
            len(client.get_collection(c.name).get(where={"video_id": video_id}, include=[])["ids"])
            for c in client.list_collections()
        )

    assert vectors() > 0
    assert alice.delete(f"/api/v1/videos/{video_id}").status_code == 204
    assert alice.get(f"/api/v1/videos/{video_id}").status_code == 404
    assert alice.get(f"/media/{video_id}").status_code == 404
    assert alice.get("/api/v1/search", params={"q": "orbit"}).json()["total"] == 0
    assert not media.exists()
    assert vectors() == 0
