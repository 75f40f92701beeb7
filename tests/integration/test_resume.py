"""Interrupted ingests resume at the first unfinished stage, with no duplicate scene or vector."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from heimdex_lab import Library
from heimdex_lab.check import check
from heimdex_lab.embed.registry import TEXT_MODELS
from heimdex_lab.ingest.pipeline import STAGES, Pipeline
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.vectors import FACES, SCENE_IMAGE, SCENE_TEXT
from heimdex_lab.types import IngestResult, VideoState

SAMPLE = "space_talk.mp4"
IMAGE_MODEL = "heimdex-tiny-clip__tiny-clip-random"


def _snapshot(lib: Library, video_id: str) -> dict[str, Any]:
    """Everything an ingest stores for a video, comparable between two libraries."""
    scenes = lib.scenes(video_id).frame
    text_model = lib.settings.text_model, int(TEXT_MODELS[lib.settings.text_model].dim or 0)
    return {
        "scenes": scenes.drop("scene_id", "keyframes").rows(),
        "keyframes": [len(k) for k in scenes["keyframes"].to_list()],
        "text_ids": sorted(lib.vectors.ids(SCENE_TEXT, *text_model, video_id)),
        "image_ids": sorted(lib.vectors.ids(SCENE_IMAGE, IMAGE_MODEL, 64, video_id)),
        "keyframe_files": sorted(p.name for p in lib.media.keyframe_dir(video_id).iterdir()),
        "segments": len(lib.catalog.segments(video_id)),
        "faces": [(f.id, f.box) for f in lib.store.people.faces(video_id)],
        "face_ids": sorted(lib.vectors.ids(FACES, "dlib", 128, video_id)),
    }


@pytest.fixture(scope="module")
def uninterrupted(ingested: tuple[Library, list[IngestResult]]) -> dict[str, Any]:
    lib, results = ingested
    return _snapshot(lib, results[0].video_id)


class Interrupt(BaseException):
    """Stands for Ctrl-C or a crash: nothing in the pipeline may catch it."""


@pytest.mark.parametrize("stop_in", STAGES, ids=[s.value for s in STAGES])
def test_resume_after_an_interrupted_stage(
    stop_in: VideoState,
    library: Library,
    copy_sample,
    uninterrupted: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_commit = Catalog.commit_stage

    def crash_before_commit(
        self: Catalog, video_id: str, stage: str, *args: Any, **kw: Any
    ) -> None:
        if stage != stop_in:
            return real_commit(self, video_id, stage, *args, **kw)

        def write_then_crash(session: Any) -> None:
            args[1](session)  # the stage's rows are written, its files and vectors exist...
            raise Interrupt  # ...and the process dies before the transaction commits

        return real_commit(self, video_id, stage, args[0], write_then_crash, *args[2:], **kw)

    monkeypatch.setattr(Catalog, "commit_stage", crash_before_commit)
    path = copy_sample(SAMPLE)
    with pytest.raises(Interrupt):
        library.ingest([path], progress=False)
    (row,) = library.store.videos.all()
    assert row.state == stop_in, "the video stays in the stage that did not commit"
    monkeypatch.undo()

    (result,) = library.ingest([path], progress=False)
    assert (result.state, result.duplicate) == ("ready", True)
    assert _snapshot(library, result.video_id) == uninterrupted


@pytest.mark.parametrize("fail_in", STAGES, ids=[s.value for s in STAGES])
def test_a_failed_stage_is_recorded_and_retried(
    fail_in: VideoState,
    library: Library,
    copy_sample,
    uninterrupted: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_run_stage = Pipeline._run_stage

    def fail(self: Pipeline, stage: VideoState, row: Any, label: str) -> None:
        if stage == fail_in:
            raise RuntimeError("disk on fire")
        real_run_stage(self, stage, row, label)

    monkeypatch.setattr(Pipeline, "_run_stage", fail)
    path = copy_sample(SAMPLE)
    (failed,) = library.ingest([path], progress=False)
    assert (failed.state, failed.stage) == ("failed", fail_in.value)
    assert failed.error == f"{path}: {fail_in.value}: RuntimeError: disk on fire"
    monkeypatch.undo()

    (result,) = library.resume(progress=False)
    assert result.state == "ready" and result.error is None
    assert _snapshot(library, result.video_id) == uninterrupted


def _subprocess_env(tiny_clip: dict[str, Any], **extra: str) -> dict[str, str]:
    """An ingest subprocess configured as the ``ingested`` library it is compared with."""
    return {
        **os.environ,
        "HEIMDEX_IMAGE_MODEL": tiny_clip["image_model"],
        "HEIMDEX_IMAGE_CHECKPOINT": str(tiny_clip["image_checkpoint"]),
        "HEIMDEX_IMAGE_MODEL_CONFIG": str(tiny_clip["image_model_config"]),
        **extra,
    }


def test_kill_9_during_transcription_then_resume(
    tmp_path: Path, copy_sample, tiny_clip: dict[str, Any], uninterrupted: dict[str, Any]
) -> None:
    library_dir = tmp_path / "library"
    path = copy_sample(SAMPLE)
    env = _subprocess_env(tiny_clip)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heimdex_lab.cli",
            "--library",
            str(library_dir),
            "ingest",
            str(path),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    catalog = library_dir / "catalog.sqlite"
    deadline = time.monotonic() + 120
    state = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if catalog.exists():
                try:
                    with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5) as db:
                        found = db.execute("SELECT state FROM videos").fetchone()
                except sqlite3.OperationalError:  # tables not created yet
                    found = None
                state = found[0] if found else None
                if state == "transcribing":
                    proc.send_signal(signal.SIGKILL)
                    break
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
    assert state == "transcribing", f"never caught the process transcribing (last: {state})"
    assert proc.returncode == -signal.SIGKILL

    with Library.open(library_dir, **tiny_clip) as lib:
        (row,) = lib.store.videos.all()
        assert row.state == "transcribing"
        (result,) = lib.ingest([path], progress=False)
        assert result.state == "ready"
        assert _snapshot(lib, result.video_id) == uninterrupted


@pytest.mark.parametrize("stage", STAGES, ids=[s.value for s in STAGES])
def test_kill_9_in_each_stage_then_resume(
    stage: VideoState,
    tmp_path: Path,
    copy_sample,
    tiny_clip: dict[str, Any],
    uninterrupted: dict[str, Any],
) -> None:
    """SIGKILL with the stage's transaction open, after everything it writes outside the catalog
    (keyframes, vectors, face crops) is written: the next run drops that and redoes the stage."""
    library_dir = tmp_path / "library"
    path = copy_sample(SAMPLE)
    env = _subprocess_env(tiny_clip, HEIMDEX_FAILPOINT=f"commit:{stage.value}")
    done = subprocess.run(
        [sys.executable, "-m", "heimdex_lab.cli", "--library", str(library_dir), "ingest",
         str(path)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]

    with Library.open(library_dir, **tiny_clip) as lib:
        (row,) = lib.store.videos.all()
        assert row.state == stage.value  # the stage's commit never happened
        (result,) = lib.resume(progress=False)
        assert result.state == "ready" and result.error is None
        assert _snapshot(lib, result.video_id) == uninterrupted
        assert check(lib) == {"ok": True, "problems": []}
