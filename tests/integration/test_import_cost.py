"""A new process imports only what its command uses (issue: start fast).

Each case runs in a fresh interpreter under ``python -X importtime`` and fails naming the heavy
module that crept onto the path and the first module of ours that pulled it in.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from heimdex_lab import Library
from heimdex_lab.embed.text import text_embedder

# Seconds of start-up each, measured on 2 cores: none belongs on these paths.
HEAVY = (
    "torch", "transformers", "sentence_transformers", "open_clip", "dlib", "faster_whisper",
    "ctranslate2", "scenedetect", "cv2", "ray", "mlflow", "fastapi", "panel", "bokeh", "supabase",
    "rfc3987_syntax.syntax_helpers", "lark",  # chromadb's jsonschema IRI grammar (~1.8 s)
)  # fmt: skip
# `import heimdex_lab` and `heimdex --help` also stay clear of the storage and data layers.
LIGHT_ONLY = (*HEAVY, "chromadb", "sqlalchemy", "polars", "numpy", "onnxruntime", "rich")


def imported(args: list[str], env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """Modules imported by ``python -X importtime ARGS`` (in order) and its stdout."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True, text=True, timeout=300, env=env or os.environ.copy(),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", run.stderr, flags=re.M)
    assert names, "no -X importtime output"
    return names, run.stdout


def offenders(names: list[str], banned: tuple[str, ...]) -> list[str]:
    return [n for n in names if any(n == b or n.startswith(f"{b}.") for b in banned)]


def test_import_heimdex_lab_is_light() -> None:
    names, _ = imported(["-c", "import heimdex_lab"])
    assert "heimdex_lab" in names
    assert offenders(names, LIGHT_ONLY) == []


def test_help_is_light() -> None:
    names, out = imported(["-m", "heimdex_lab.cli", "--help"])
    assert "search" in out and "ingest" in out
    assert offenders(names, LIGHT_ONLY) == []


@pytest.fixture(scope="module")
def without_vision(tmp_path_factory: pytest.TempPathFactory, sample_paths: list[Path]) -> Library:
    """One sample ingested with the default settings: no CLIP weights, so no image vectors."""
    lib = Library.open(tmp_path_factory.mktemp("no-vision"))
    lib.ingest([p for p in sample_paths if p.name == "space_talk.mp4"], progress=False)
    return lib


def test_search_imports_no_torch_nor_chroma(without_vision: Library) -> None:
    lib = without_vision
    text_embedder(lib.settings.text_model)  # the one-time ONNX export is not this path's cost
    lib.search("anything")  # the first search after a write copies the vectors out of Chroma
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEIMDEX_IMAGE")}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    query = ["search", "the rocket launch was delayed by the budget", "--json"]
    names, out = imported(["-m", "heimdex_lab.cli", "--library", str(lib.path), *query], env)
    first = json.loads(out)["results"][0]
    assert (first["filename"], first["start"]) == ("space_talk.mp4", 0.0), "the right scene first"
    assert "onnxruntime" in names
    assert offenders(names, (*HEAVY, "chromadb", "polars")) == []
