"""Shared fixtures: the committed sample videos, a tiny real open_clip model, one ingested library.

Real packaged models are loaded once per session (they are cached per process by the package).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heimdex_lab import Library
from heimdex_lab.types import IngestResult
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
TINY_CLIP = "heimdex-tiny-clip"


@pytest.fixture(scope="session")
def samples() -> dict[str, Any]:
    """Ground truth of the committed samples, by file name."""
    truth = json.loads((SAMPLES / "samples.json").read_text())
    return {v["file"]: v for v in truth["videos"]}


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    return [SAMPLES / n for n in ("space_talk.mp4", "kitchen_cat.mkv", "silent_coins.webm")]


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small randomly initialised open_clip model saved to a local checkpoint.

    The real loading and embedding code runs on it; only the weights are random.
    """
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("clip")
    config = folder / f"{TINY_CLIP}.json"
    config.write_text(
        json.dumps(
            {
                "embed_dim": 64,
                "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
                "text_cfg": {
                    "context_length": 77,
                    "vocab_size": 49408,
                    "width": 64,
                    "heads": 2,
                    "layers": 2,
                },
            }
        )
    )
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_CLIP, pretrained=None)
    checkpoint = folder / "tiny-clip-random.pt"
    torch.save({"state_dict": model.state_dict()}, checkpoint)
    return {"image_model": TINY_CLIP, "image_checkpoint": checkpoint, "image_model_config": config}


@pytest.fixture(scope="session")
def ingested(
    tmp_path_factory: pytest.TempPathFactory, sample_paths: list[Path], tiny_clip: dict[str, Any]
) -> tuple[Library, list[IngestResult]]:
    """The three samples ingested once, vision on (tiny CLIP); shared read-only by many tests."""
    lib = Library.open(tmp_path_factory.mktemp("library"), **tiny_clip)
    results = lib.ingest(sample_paths, progress=False)
    return lib, results


@pytest.fixture()
def library(tmp_path: Path, tiny_clip: dict[str, Any]) -> Library:
    """A fresh, empty library for a test that changes things."""
    return Library.open(tmp_path / "library", **tiny_clip)


@pytest.fixture()
def copy_sample(tmp_path: Path):
    def copy(name: str, new_name: str | None = None) -> Path:
        target = tmp_path / (new_name or name)
        shutil.copy(SAMPLES / name, target)
        return target

    return copy


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (Debian's binaries); one database per test."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
