"""Fixtures of the tests on the shared ingested samples (search, the video page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.types import IngestResult


@pytest.fixture()
def lib(ingested: tuple[Library, list[IngestResult]]) -> Library:
    """The samples' library (read-only: shared by the session)."""
    return ingested[0]


@pytest.fixture()
def ids(ingested: tuple[Library, list[IngestResult]]) -> dict[str, str]:
    """Video id by file name of the ingested samples."""
    return {Path(r.file).name: str(r.video_id) for r in ingested[1]}


@pytest.fixture()
def cli(lib: Library, tiny_clip: dict[str, Any]):
    """``heimdex --library <the samples' library> ARGS…`` in this process (CliRunner)."""
    env = {
        "HEIMDEX_IMAGE_MODEL": tiny_clip["image_model"],
        "HEIMDEX_IMAGE_CHECKPOINT": str(tiny_clip["image_checkpoint"]),
        "HEIMDEX_IMAGE_MODEL_CONFIG": str(tiny_clip["image_model_config"]),
    }

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["--library", str(lib.path), *args], env=env)

    return run
