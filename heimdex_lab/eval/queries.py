"""Retrieval evaluation on a QUERIES.jsonl file: relevance by time overlap, metrics per signal.

Each line: ``{"query": str, "relevant": [{"video": FILENAME, "start": s, "end": s}]}``, and an
optional ``"kind"`` (spoken, keyword, visual, screen) that groups the metrics.
A scene is relevant when it overlaps a relevant range of a video with that file name.
A query of kind ``unanswerable`` has ``"relevant": []``: nothing should match it; it is not
scored for recall, and the report gives the best hybrid score such queries still got and how
often their results were labelled high or medium confidence (search/confidence.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heimdex_lab.errors import ModelUnavailable, UsageError
from heimdex_lab.eval.metrics import evaluate
from heimdex_lab.types import VideoState

if TYPE_CHECKING:
    import polars as pl

    from heimdex_lab.library import Library

UNANSWERABLE = "unanswerable"
# Kinds whose answers confidence cannot vouch for: it does not use CLIP similarity (no real CLIP
# weights to calibrate it on), so a scene found by its picture alone is low by design.
UNCALIBRATED_KINDS = ("visual",)
# The signal each mode measures, as `heimdex eval` reports them.
EVAL_MODES = {
    "text": "text",
    "keyword": "keyword",
    "image": "visual",
    "screen": "screen",
    "hybrid": "hybrid",
}


@dataclass(frozen=True)
class RelevantRange:
    video: str
    start: float
    end: float


@dataclass(frozen=True)
class Query:
    qid: str
    query: str
    relevant: tuple[RelevantRange, ...]
    kind: str = "all"


@dataclass
class EvalReport:
    """Metrics per signal (and per query kind), plus every query's ranking as a DataFrame."""

    k: int
    queries: int
    metrics: dict[str, dict[str, float] | None]
    by_kind: dict[str, dict[str, dict[str, float] | None]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Queries with no right answer: how many, the mean of their best hybrid scores, and the
    # share of them whose top hybrid result (``sure_top``) or any of whose ``k`` results
    # (``sure_any``) is of high or medium confidence.
    unanswerable: dict[str, float] | None = None
    # Of the judged queries whose top hybrid result is relevant (visual ones left out:
    # UNCALIBRATED_KINDS): how many, and the share of those results that are of high or medium
    # confidence (``sure``) and of high (``high``).
    confidence: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "queries": self.queries,
            "metrics": self.metrics,
            "by_kind": self.by_kind,
            "unanswerable": self.unanswerable,
            "confidence": self.confidence,
        }

    @property
    def frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame(self.rows)


def load_queries(path: Path) -> list[Query]:
    """Parse a QUERIES.jsonl file; a bad line raises `UsageError` naming file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the queries file: {exc.strerror or exc}") from None
    queries = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            relevant = tuple(
                RelevantRange(str(r["video"]), float(r["start"]), float(r["end"]))
                for r in item["relevant"]
            )
            text = str(item["query"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f'{path}:{n}: expected {{"query": str, "relevant": [{{"video", "start", '
                f'"end"}}]}} ({type(exc).__name__}: {exc})'
            ) from None
        kind = str(item.get("kind", "all"))
        if not relevant and kind != UNANSWERABLE:
            raise UsageError(
                f"{path}:{n}: a query needs at least one relevant range "
                f'(or "kind": "{UNANSWERABLE}")'
            )
        queries.append(Query(f"q{n}", text, relevant, kind))
    if not queries:
        raise UsageError(f"{path}: no queries in the file")
    return queries


def relevant_scenes(lib: Library, queries: Sequence[Query]) -> dict[str, set[str]]:
    """Scene ids that overlap each query's relevant ranges (by video file name)."""
    by_name: dict[str, list[str]] = {}
    for video in lib.store.videos.all():
        if video.state == VideoState.READY:
            by_name.setdefault(video.filename, []).append(video.id)
    scenes = {vid: lib.store.scenes.of_video(vid) for ids in by_name.values() for vid in ids}
    qrels: dict[str, set[str]] = {}
    for q in queries:
        qrels[q.qid] = {
            s.scene_id
            for r in q.relevant
            for vid in by_name.get(r.video, [])
            for s in scenes[vid]
            if s.start < r.end and r.start < s.end
        }
    return qrels


def evaluate_library(
    lib: Library,
    queries: Sequence[Query],
    k: int = 10,
    weights: Mapping[str, float] | None = None,
    fusion: str | None = None,
) -> EvalReport:
    """Recall@1/5/10, MRR and nDCG@10 of each signal alone and fused, over ``queries``."""
    if k < 1:
        raise UsageError(f"k must be at least 1 (got {k})")
    qrels = relevant_scenes(lib, queries)
    judged = [q for q in queries if qrels[q.qid] and q.kind != UNANSWERABLE]
    if not judged:
        raise UsageError("no query has a relevant scene in this library: are the videos ingested?")
    depth = k  # the ranking depth looked at; recall@10 needs k >= 10
    report = EvalReport(k=k, queries=len(judged), metrics={})
    kinds = sorted({q.kind for q in judged})
    correct_tops: list[str] = []  # the confidence of each relevant top hybrid result
    for signal, mode in EVAL_MODES.items():
        runs: dict[str, list[str]] = {}
        try:
            for q in judged:
                page = lib.search(q.query, k=depth, mode=mode, weights=weights, fusion=fusion)
                runs[q.qid] = [h.scene_id for h in page.hits]
                top = page.hits[0] if page.hits else None
                calibrated = mode == "hybrid" and q.kind not in UNCALIBRATED_KINDS
                if calibrated and top is not None and top.scene_id in qrels[q.qid]:
                    correct_tops.append(top.confidence)
                report.rows.append(
                    {
                        "qid": q.qid,
                        "query": q.query,
                        "kind": q.kind,
                        "signal": signal,
                        "ranked": runs[q.qid],
                        "relevant": sorted(qrels[q.qid]),
                    }
                )
        except (UsageError, ModelUnavailable):
            if signal != "image":
                raise
            report.metrics[signal] = None  # vision off: no visual metrics
            continue
        report.metrics[signal] = evaluate(runs, {q.qid: qrels[q.qid] for q in judged})
        if len(kinds) > 1:
            for kind in kinds:
                subset = [q for q in judged if q.kind == kind]
                report.by_kind.setdefault(kind, {})[signal] = evaluate(
                    {q.qid: runs[q.qid] for q in subset}, {q.qid: qrels[q.qid] for q in subset}
                )
    if correct_tops:
        report.confidence = {
            "correct_top": len(correct_tops),
            "sure": sum(c != "low" for c in correct_tops) / len(correct_tops),
            "high": sum(c == "high" for c in correct_tops) / len(correct_tops),
        }
    nothing = [q for q in queries if q.kind == UNANSWERABLE]
    if nothing:
        tops, sure_top, sure_any = [], 0, 0
        for q in nothing:
            hits = lib.search(q.query, k=depth, weights=weights, fusion=fusion).hits
            tops.append(hits[0].score if hits else 0.0)
            sure_top += bool(hits) and hits[0].confidence != "low"
            sure_any += any(h.confidence != "low" for h in hits)
            report.rows.append({"qid": q.qid, "query": q.query, "kind": q.kind,
                                "signal": "hybrid", "ranked": [h.scene_id for h in hits[:1]],
                                "relevant": []})  # fmt: skip
        report.unanswerable = {
            "queries": len(nothing),
            "mean_top_score": sum(tops) / len(tops),
            "sure_top": sure_top / len(nothing),
            "sure_any": sure_any / len(nothing),
        }
    return report
