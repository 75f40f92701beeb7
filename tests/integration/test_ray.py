"""Ingestion on Ray (docs/architecture.md §9): one task per video, a local Ray with 2 CPUs.

The same pipeline runs in the Ray workers, so the scenes must be those the local executor finds;
a bad file and a task that raises each get their own row while the other files are ingested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.ingest.executors import init_ray
from heimdex_lab.ingest.pipeline import STAGES
from heimdex_lab.types import IngestResult


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    assert init_ray(num_cpus=2), "Ray was already running: this test needs its own instance"
    yield
    import ray

    ray.shutdown()


def _scene_starts(lib: Library, video_id: str) -> list[tuple[int, float]]:
    return [(s.no, s.start) for s in lib.store.scenes.of_video(video_id)]


def test_ray_ingest_matches_local_and_isolates_failures(
    local_ray: None,
    ingested: tuple[Library, list[IngestResult]],
    sample_paths: list[Path],
    tiny_clip: dict[str, Any],
    tmp_path: Path,
) -> None:
    local_lib, local_results = ingested
    bad = tmp_path / "notes.mp4"
    bad.write_text("meeting notes, not a video\n")
    unopenable = Path("name\0with-nul.mp4")  # os.stat raises ValueError: the task itself fails
    space, kitchen, coins = sample_paths
    inputs = [space, bad, kitchen, unopenable, coins]
    lib = Library.open(tmp_path / "library", **tiny_clip)
    reported: list[tuple[str, str, float]] = []

    results = lib.ingest(inputs, executor="ray", progress=lambda *event: reported.append(event))

    assert [r.file for r in results] == [str(p) for p in inputs]
    assert [r.state for r in results] == ["ready", "rejected", "ready", "failed", "ready"]
    rejected, failed = results[1], results[3]
    assert rejected.stage == "validating"
    assert rejected.error is not None and rejected.error.startswith(f"{bad}: not a video")
    assert failed.video_id is None
    assert failed.error == f"{unopenable}: the Ray task raised ValueError: embedded null byte"

    good = [results[0], results[2], results[4]]
    # Same bytes and owner give the same video id, and the same scenes as the local executor.
    assert [r.video_id for r in good] == [r.video_id for r in local_results]
    for ray_result, local_result in zip(good, local_results, strict=True):
        assert ray_result.scenes == local_result.scenes
        assert ray_result.duration_s == local_result.duration_s
        video_id = ray_result.video_id
        assert video_id is not None and local_result.video_id is not None
        assert _scene_starts(lib, video_id) == _scene_starts(local_lib, local_result.video_id)
        # The workers wrote every stage's job row to the catalog this process reads.
        jobs = {j.stage: j for j in lib.catalog.jobs(video_id)}
        assert set(jobs) == {"validating", *(s.value for s in STAGES)}
        assert all(j.finished_at is not None and j.progress == 1.0 for j in jobs.values())
    assert {label for label, stage, _ in reported if stage == "ready"} == {
        str(space),
        str(kitchen),
        str(coins),
    }

    # The vectors the workers stored are searchable from here.
    hit = lib.search("the rocket launch was delayed", mode="text").hits[0]
    assert hit.video_id == results[0].video_id
    frame = lib.videos().frame
    assert sorted(frame["state"]) == ["ready", "ready", "ready", "rejected"]


def test_cli_ingest_on_ray(
    local_ray: None,
    sample_paths: list[Path],
    samples: dict[str, Any],
    tiny_clip: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEIMDEX_IMAGE_MODEL", tiny_clip["image_model"])
    monkeypatch.setenv("HEIMDEX_IMAGE_CHECKPOINT", str(tiny_clip["image_checkpoint"]))
    monkeypatch.setenv("HEIMDEX_IMAGE_MODEL_CONFIG", str(tiny_clip["image_model_config"]))
    runner = CliRunner()
    library = str(tmp_path / "library")
    coins = sample_paths[2]

    result = runner.invoke(
        app, ["--library", library, "ingest", "--executor", "ray", str(coins), "--json"]
    )

    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["file"], row["state"], row["error"]) == (str(coins), "ready", None)
    assert row["scenes"] == len(samples[coins.name]["shots"])

    # --address (the name) is an alias of --ray-address (docs/architecture.md §6).
    wrong = runner.invoke(
        app, ["--library", library, "ingest", "--address", "auto", str(coins), "--json"]
    )
    assert wrong.exit_code == 2
    assert "only used by --executor ray" in wrong.stderr
    unknown = runner.invoke(app, ["--library", library, "ingest", "--executor", "dask", str(coins)])
    assert unknown.exit_code == 2
    assert "available: local, ray" in unknown.stderr
