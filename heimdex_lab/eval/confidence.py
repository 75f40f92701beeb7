"""Fitting the confidence thresholds (search/confidence.py) on answerable and unanswerable queries.

For each query, hybrid search's top ``k`` hits give the evidence that labels them: the best
text or screen cosine and the exact-word tier. Thresholds are fitted on that evidence, not on
the labels the current settings give, so one search per query serves every candidate threshold:

- ``medium``: the lowest cosine at which at most ``target`` of the unanswerable queries get any
  high or medium result among their ``k``;
- ``high``: the lowest cosine (not under ``medium``) that no unanswerable query's result reaches.

Visual queries are left out: the label does not use CLIP similarity (no real CLIP weights were
at hand to calibrate it). The notebook 20_eval_retrieval logs the thresholds and ``rates``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heimdex_lab.eval.queries import (
    UNANSWERABLE,
    UNCALIBRATED_KINDS,
    load_queries,
    relevant_scenes,
)
from heimdex_lab.search.confidence import exact_tier, label, similarity

if TYPE_CHECKING:
    from heimdex_lab.library import Library

TARGET_UNANSWERABLE = 0.10  # at most this share of unanswerable queries gets a sure result
GRID_STEP = 0.01


def collect_evidence(lib: Library, queries: str | Path, k: int = 10) -> list[dict[str, Any]]:
    """One row per query of ``queries`` that ``lib`` can judge (unanswerable ones, and those
    with a relevant scene in it): its kind, whether the top hit is relevant, and each of the top
    ``k`` hits' ``(similarity, tier)``."""
    path = Path(queries)
    items = [q for q in load_queries(path) if q.kind not in UNCALIBRATED_KINDS]
    qrels = relevant_scenes(lib, items)
    rows = []
    for q in items:
        unanswerable = q.kind == UNANSWERABLE
        if not unanswerable and not qrels[q.qid]:
            continue  # its video is not in this library
        hits = lib.search(q.query, k=k).hits
        evidence = [
            (
                similarity(h.scores),
                exact_tier(q.query, f"{h.text}\n{h.screen_text}", lib.settings.exact_max_words),
            )
            for h in hits
        ]
        rows.append({
            "set": f"{path.parent.name}/{path.stem}", "qid": q.qid, "query": q.query,
            "kind": q.kind, "unanswerable": unanswerable,
            "correct": bool(hits) and not unanswerable and hits[0].scene_id in qrels[q.qid],
            "evidence": evidence,
        })  # fmt: skip
    return rows


def _labels(row: dict[str, Any], high: float, medium: float) -> list[str]:
    return [label(sim, tier, high, medium) for sim, tier in row["evidence"]]


def rates(rows: Sequence[dict[str, Any]], high: float, medium: float) -> dict[str, float]:
    """What thresholds ``(high, medium)`` give on ``rows`` (``collect_evidence``): shares of
    unanswerable queries whose top hit, or any hit, is high or medium (``*_sure``) or high, and
    of correct top hits that are high or medium, or high. A share of no queries is 0."""

    def share(flags: list[bool]) -> float:
        return sum(flags) / len(flags) if flags else 0.0

    nothing = [_labels(r, high, medium) for r in rows if r["unanswerable"]]
    correct = [_labels(r, high, medium)[0] for r in rows if r["correct"]]
    answerable = [r for r in rows if not r["unanswerable"]]
    return {
        "unanswerable_queries": float(len(nothing)),
        "unanswerable_top_sure": share([bool(ls) and ls[0] != "low" for ls in nothing]),
        "unanswerable_any_sure": share([any(lv != "low" for lv in ls) for ls in nothing]),
        "unanswerable_any_high": share(["high" in ls for ls in nothing]),
        "answerable_queries": float(len(answerable)),
        "correct_top1": share([r["correct"] for r in answerable]),
        "correct_top_sure": share([lv != "low" for lv in correct]),
        "correct_top_high": share([lv == "high" for lv in correct]),
    }


def fit_thresholds(
    rows: Sequence[dict[str, Any]], target: float = TARGET_UNANSWERABLE, step: float = GRID_STEP
) -> tuple[float, float]:
    """``(high, medium)`` cosine thresholds fitted on ``rows`` (see the module docstring)."""
    if not any(r["unanswerable"] for r in rows):
        raise ValueError("fitting confidence needs unanswerable queries (kind unanswerable)")
    grid = [round(n * step, 6) for n in range(round(1 / step) + 1)]
    medium = next(
        (t for t in grid if rates(rows, 1.0 + step, t)["unanswerable_any_sure"] <= target), 1.0
    )
    high = next(
        (t for t in grid if t >= medium and rates(rows, t, t)["unanswerable_any_high"] == 0.0),
        1.0,
    )
    return high, medium
