"""The notebooks run: nbval (lax) over all of them on a fresh library, and a papermill batch run
of the evaluation notebook that must leave an MLflow run with its metrics and artifacts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heimdex_lab import Library, tracking
from heimdex_lab.types import IngestResult

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_paired_and_stored_without_outputs() -> None:
    import nbformat

    assert [n.stem for n in NOTEBOOKS] == [
        "00_ingest",
        "10_search",
        "20_eval_retrieval",
        "30_people",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert path.with_suffix(".py").is_file(), f"{path.name} has no py:percent pair"
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged parameters"


def test_nbval_runs_every_notebook(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HEIMDEX_LIBRARY": str(tmp_path / "library"),
        "HEIMDEX_MLRUNS": str(tmp_path / "mlruns"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         *map(str, NOTEBOOKS)],
        cwd=ROOT / "notebooks", env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    import nbformat

    cells = sum(
        1
        for path in NOTEBOOKS
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
    )
    assert f"{cells} passed" in result.stdout, "nbval runs every code cell"
    # 00_ingest really ingested the samples into the library it was pointed at.
    lib = Library.open(tmp_path / "library")
    videos = [
        p for p in (ROOT / "data" / "samples").iterdir() if p.suffix in (".mp4", ".mkv", ".webm")
    ]
    assert lib.videos().frame["state"].to_list() == ["ready"] * len(videos)
    # 30_people enrolled Grace Hopper from a photo and found her in the sample video.
    assert lib.people_frame().select("name", "scenes").rows() == [("Grace Hopper", 1)]


def test_papermill_eval_run_is_tracked_in_mlflow(
    ingested: tuple[Library, list[IngestResult]],
    tiny_clip: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow

    lib, _ = ingested
    monkeypatch.setenv("HEIMDEX_MLRUNS", str(tmp_path / "mlruns"))
    run_id = tracking.run_notebook(
        ROOT / "notebooks" / "20_eval_retrieval.ipynb",
        {
            "library": str(lib.path),
            "models": {key: str(value) for key, value in tiny_clip.items()},
            "sweep": [0.0, 0.1],
        },
        tmp_path / "out" / "eval.ipynb",
        root=ROOT,
    )
    mlflow.set_tracking_uri(tracking.tracking_uri(ROOT))
    assert tracking.tracking_uri(ROOT) == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    run = mlflow.get_run(run_id)
    metrics = run.data.metrics
    for signal in ("text", "keyword", "image", "hybrid"):
        assert 0.0 <= metrics[f"{signal}.recall_at_1"] <= 1.0
    assert metrics["spoken.text.recall_at_5"] >= 0.8
    assert metrics["keyword.keyword.recall_at_1"] == 1.0
    assert run.data.params["fusion"] == "convex"
    assert run.data.params["models.text"] == lib.settings.text_model
    assert run.data.params["best_keyword_weight"] in {"0.0", "0.1"}
    # Confidence thresholds fitted on the samples' queries, 12 of them unanswerable.
    high, medium = (
        float(run.data.params["confidence_high"]),
        float(run.data.params["confidence_medium"]),
    )
    assert 0.0 < medium <= high < 1.0
    assert metrics["confidence_fit.unanswerable_queries"] == 12
    assert metrics["confidence_fit.unanswerable_any_sure"] <= 0.1
    assert metrics["confidence_fit.correct_top_sure"] >= 0.9
    assert metrics["confidence_fit.samples/queries.unanswerable_queries"] == 12
    # With the configured thresholds (heimdex eval's figures):
    assert metrics["unanswerable.sure_any"] == 0.0 and metrics["confidence.sure"] >= 0.9
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id)}
    assert {"per_query.parquet", "sweep.parquet", "notebook"} <= artifacts
    children = mlflow.search_runs(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
    )
    assert len(children) == 2
