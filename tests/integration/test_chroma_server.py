"""Vectors on a Chroma server (docs/architecture.md §9): ``HEIMDEX_CHROMA_URL`` moves every
vector to a real ``chroma run`` started here, and the library behaves as with its embedded
directory."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heimdex_lab import Library
from heimdex_lab.config import Settings
from heimdex_lab.store.vectors import collection_name
from tests.chroma import chroma_server
from tests.server import _free_port

CHROMA_VERSION = "1.5.9"  # pyproject's pin: client and server come from this one wheel
QUERY = "the rocket launch was delayed"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``chroma run`` of this venv on a free loopback port, stopped when the module is done."""
    chroma = Path(sys.executable).parent / "chroma"
    # The CLI runs the server bundled in the chromadb wheel this interpreter imports, so the
    # server is the client's version; check the script really belongs to this interpreter.
    shebang = chroma.read_text().splitlines()[0].removeprefix("#!")
    assert Path(shebang).parent == Path(sys.executable).parent, shebang
    assert importlib.metadata.version("chromadb") == CHROMA_VERSION
    with chroma_server(tmp_path_factory.mktemp("chroma")) as url:
        yield url


def _server_client(url: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(
        host=host, port=int(port), settings=ChromaSettings(anonymized_telemetry=False)
    )


def _server_ids(url: str, owner: str, video_id: str) -> dict[str, int]:
    """Vectors of ``video_id`` on the server, per collection of ``owner``."""
    client = _server_client(url)
    suffix = collection_name("x", "x", 1, owner).rsplit("__", 1)[1]
    return {
        col.name: len(
            client.get_collection(col.name).get(where={"video_id": video_id}, include=[])["ids"]
        )
        for col in client.list_collections()
        if col.name.endswith("__" + suffix)
    }


def test_a_library_keeps_its_vectors_on_the_chroma_server(
    chroma_url: str, tmp_path: Path, tiny_clip: dict[str, Any], copy_sample
) -> None:
    lib = Library.open(tmp_path / "library", chroma_url=chroma_url, **tiny_clip)
    (video,) = lib.ingest([copy_sample("space_talk.mp4")], progress=False)
    assert video.state == "ready", video.error
    video_id = str(video.video_id)

    # Every vector went to the server, none to a local directory.
    assert lib.vectors.path is None
    assert not (lib.path / "vectors").exists()
    on_server = _server_ids(chroma_url, "local", video_id)
    assert any(name.startswith("scene_text__") for name in on_server)
    # space_talk shows photos, no text: its on-screen collection exists and is empty.
    filled = {name: n for name, n in on_server.items() if not name.startswith("scene_screen__")}
    assert all(n > 0 for n in filled.values()), on_server

    page = lib.search(QUERY, mode="text")
    first_scene = lib.scenes(video_id).frame["scene_id"][0]
    assert page.hits[0].video_id == video_id
    assert page.hits[0].scene_id == first_scene
    assert page.hits[0].start == 0.0

    # Another owner on the same server: her own collections, and neither sees the other.
    mallory = Library.open(tmp_path / "library", user="mallory", chroma_url=chroma_url, **tiny_clip)
    assert mallory.search(QUERY, mode="text").total == 0
    (hers,) = mallory.ingest([copy_sample("kitchen_cat.mkv")], progress=False)
    assert hers.state == "ready", hers.error
    her_id = str(hers.video_id)
    assert {h.video_id for h in mallory.search(QUERY, mode="text").hits} == {her_id}
    assert {h.video_id for h in lib.search(QUERY, mode="text").hits} == {video_id}
    assert set(_server_ids(chroma_url, "mallory", video_id).values()) == {0}
    assert set(_server_ids(chroma_url, "mallory", her_id)).isdisjoint(on_server)

    # Deleting removes the video's vectors on the server, and only those.
    hers_before = _server_ids(chroma_url, "mallory", her_id)
    lib.delete_video(video_id)
    assert set(_server_ids(chroma_url, "local", video_id).values()) == {0}
    assert lib.search(QUERY, mode="text").total == 0
    assert _server_ids(chroma_url, "mallory", her_id) == hers_before
    assert mallory.search(QUERY, mode="text").hits[0].video_id == her_id


def test_readyz_checks_the_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from heimdex_lab.api.server import create_app

    def vectors_check(url: str) -> str:
        settings = Settings(library=tmp_path / url.rsplit(":", 1)[1], chroma_url=url)
        with TestClient(create_app(settings, no_auth=True, panel_app=False)) as client:
            checks: dict[str, str] = client.get("/readyz").json()["checks"]
        return checks["vectors"]

    assert vectors_check(chroma_url) == "ok"
    down = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    assert vectors_check(down).startswith("failed: Could not connect to a Chroma server")
