"""Retrieval quality cannot slip: `Library.evaluate` on the samples and the lectures set stays
above floors, with the default text model (all-mpnet-base-v2) and with MiniLM, the setting for
small machines (the same library, its text vectors re-embedded: `reindex text`).

Floors are the values measured (README, "Retrieval quality") minus a small margin: one or two
queries of a kind may change places, a real regression may not. Keyword queries get no margin:
a scene holding the searched word must come first. The lectures (data/eval/make_lectures.py)
replace the easier talks set here: both take minutes to render and ingest, and the talks no
longer separate one method from another.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from heimdex_lab import Library
from heimdex_lab.eval.queries import EvalReport
from heimdex_lab.types import IngestResult

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "data" / "eval"

# (set, kind, signal, metric): floor
FLOORS = {
    ("samples", "spoken", "hybrid", "recall@1"): 0.90,  # measured 1.000 (12 queries)
    ("samples", "keyword", "hybrid", "recall@1"): 1.00,  # 1.000
    ("lectures", "spoken", "hybrid", "recall@1"): 0.86,  # 0.908 (65 queries)
    ("lectures", "spoken", "hybrid", "recall@5"): 0.95,  # 0.985
    ("lectures", "spoken", "hybrid", "mrr"): 0.89,  # 0.938
    ("lectures", "spoken", "text", "recall@1"): 0.84,  # 0.892
    ("lectures", "keyword", "hybrid", "recall@1"): 1.00,  # 1.000 (36 queries)
    ("lectures", "keyword", "keyword", "recall@1"): 1.00,  # 1.000
    ("lectures-minilm", "spoken", "hybrid", "recall@1"): 0.76,  # 0.815
    ("lectures-minilm", "spoken", "hybrid", "recall@5"): 0.93,  # 0.985
    ("lectures-minilm", "keyword", "hybrid", "recall@1"): 1.00,  # 1.000
}
MINILM = "all-MiniLM-L6-v2"


def generated(name: str) -> list[Path]:
    """The videos of data/eval/make_{name}.py, generated once into data/eval/{name}/
    (git-ignored): into a temporary folder first, renamed into place when complete."""
    folder = EVAL / name
    if not (folder / f"{name}.json").is_file():
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=EVAL))
        command = [sys.executable, str(EVAL / f"make_{name}.py"), "--out-dir", str(work)]
        if name == "lectures":  # the committed queries stay as they are
            command += ["--queries", str(work / "queries.jsonl")]
        try:
            subprocess.run(command, check=True, capture_output=True)
            try:
                work.rename(folder)
            except OSError:  # another session generated them first
                if not (folder / f"{name}.json").is_file():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return sorted(folder.glob("*.mp4"))


@pytest.fixture(scope="session")
def reports(
    tmp_path_factory: pytest.TempPathFactory, ingested: tuple[Library, list[IngestResult]]
) -> dict[str, EvalReport]:
    # The lectures show photos, no text: on-screen text reading is off, which halves the ingest.
    lectures = Library.open(tmp_path_factory.mktemp("lectures"), ocr=False)
    results = lectures.ingest(generated("lectures"), progress=False)
    assert [(r.state, r.scenes) for r in results] == [("ready", 7)] * 12
    assert lectures.settings.text_model != MINILM
    reports = {
        "samples": ingested[0].evaluate(ROOT / "data" / "samples" / "queries.jsonl"),
        "lectures": lectures.evaluate(EVAL / "lectures.jsonl"),
    }
    minilm = Library.open(lectures.path, ocr=False, text_model=MINILM)
    assert minilm.reindex("text") == 12
    reports["lectures-minilm"] = minilm.evaluate(EVAL / "lectures.jsonl")
    return reports


@pytest.mark.parametrize(("where", "floor"), FLOORS.items(), ids=["-".join(k) for k in FLOORS])
def test_recall_stays_above_its_floor(
    reports: dict[str, EvalReport], where: tuple[str, str, str, str], floor: float
) -> None:
    name, kind, signal, metric = where
    metrics = reports[name].by_kind[kind][signal]
    assert metrics is not None
    assert metrics[metric] >= floor, f"{name} {kind} {signal} {metric}: {metrics[metric]:.3f}"


def test_unanswerable_queries_are_counted_not_scored(reports: dict[str, EvalReport]) -> None:
    report = reports["lectures"]
    assert report.unanswerable is not None and report.unanswerable["queries"] == 8
    assert report.queries == 101  # judged queries only: 65 spoken, 36 keyword
    assert "unanswerable" not in report.by_kind


@pytest.mark.parametrize("name", ["lectures", "lectures-minilm"])
def test_confidence_separates_answers_from_queries_with_none(
    reports: dict[str, EvalReport], name: str
) -> None:
    """With each model's fitted thresholds, an unanswerable query rarely gets a sure result
    (at most 2 of the lectures' 8: MPNet gives 1, MiniLM 2; README), and a right top result is
    nearly always high or medium (MPNet 0.93, MiniLM 0.99)."""
    report = reports[name]
    assert report.unanswerable is not None and report.confidence is not None
    assert report.unanswerable["sure_any"] <= 0.25, report.unanswerable
    assert report.confidence["sure"] >= 0.9, report.confidence
