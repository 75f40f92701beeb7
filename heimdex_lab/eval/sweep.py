"""Retrieval sweeps: one library evaluated under each text model, fusion, weights and exact-first.

A library holds one text-vector collection per model (DESIGN.md §3), so models are compared on
the same transcripts and scenes: a model whose vectors are missing is filled in first (the
``text`` reindex, no transcription). The notebook 20_eval_retrieval logs each setting's report
to MLflow; nothing here touches MLflow.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heimdex_lab.eval.queries import EvalReport

if TYPE_CHECKING:
    import polars as pl

    from heimdex_lab.library import Library

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepPoint:
    """One evaluated setting."""

    text_model: str
    fusion: str
    weights: Mapping[str, float]
    exact_first: bool

    @property
    def params(self) -> dict[str, Any]:
        return {
            "text_model": self.text_model,
            "fusion": self.fusion,
            "weights": dict(self.weights),
            "exact_first": self.exact_first,
        }

    @property
    def name(self) -> str:
        weights = ",".join(f"{k}={v:g}" for k, v in self.weights.items())
        exact = "exact" if self.exact_first else "no-exact"
        return f"{self.text_model} {self.fusion} {weights} {exact}"


@dataclass
class Sweep:
    """Every setting with its report and the seconds its evaluation took."""

    points: list[tuple[SweepPoint, EvalReport, float]] = field(default_factory=list)

    def table(self) -> pl.DataFrame:
        """One row per setting, signal and query kind ("all" for every query)."""
        import polars as pl

        rows = []
        for point, report, seconds in self.points:
            base = {"setting": point.name, "text_model": point.text_model, "fusion": point.fusion,
                    "keyword_weight": float(point.weights.get("keyword", 0.0)),
                    "exact_first": point.exact_first, "eval_s": seconds}  # fmt: skip
            groups = {"all": report.metrics, **report.by_kind}
            for kind, signals in groups.items():
                for signal, metrics in signals.items():
                    if metrics is not None:
                        rows.append({**base, "kind": kind, "signal": signal, **metrics})
        return pl.DataFrame(rows)

    def best(self, metric: str = "recall@1", kind: str = "all") -> tuple[SweepPoint, EvalReport]:
        """The setting whose hybrid ``metric`` (over ``kind`` queries) is highest; ties go to
        the earlier setting, so list the cheaper choice first."""
        if not self.points:
            raise ValueError("an empty sweep has no best setting")

        def score(item: tuple[SweepPoint, EvalReport, float]) -> float:
            report = item[1]
            metrics = report.metrics if kind == "all" else report.by_kind.get(kind, {})
            hybrid = metrics.get("hybrid")
            return hybrid[metric] if hybrid else float("-inf")

        point, report, _ = max(self.points, key=score)
        return point, report


def ensure_text_vectors(lib: Library) -> int:
    """Embed the scene text of ready videos that have no vectors of ``lib``'s text model yet;
    returns how many videos were embedded."""
    from heimdex_lab.embed.text import text_embedder
    from heimdex_lab.store.vectors import SCENE_TEXT
    from heimdex_lab.types import VideoState

    settings = lib.settings
    dim = text_embedder(settings.text_model, settings.embed_batch_size).dim
    missing = [
        v.id
        for v in lib.catalog.videos(lib.user)
        if v.state == VideoState.READY
        and any(s.text for s in lib.catalog.scenes(lib.user, v.id))
        and not lib.vectors.ids(SCENE_TEXT, settings.text_model, dim, v.id)
    ]
    for video_id in missing:
        lib.reindex("text", video_id)
    return len(missing)


def run_sweep(
    open_library: Any,
    queries: Path,
    text_models: Sequence[str],
    fusions: Sequence[str],
    weights: Sequence[Mapping[str, float]],
    exact_first: Sequence[bool] = (True,),
    k: int = 10,
) -> Sweep:
    """Evaluate ``queries`` under every combination; ``open_library(**settings)`` opens the
    library with settings overrides (``text_model``, ``exact_first``)."""
    sweep = Sweep()
    for model in text_models:
        filled = ensure_text_vectors(open_library(text_model=model))
        if filled:
            log.info("embedded %d video(s) with %s", filled, model)
        for fusion, setting, exact in itertools.product(fusions, weights, exact_first):
            lib = open_library(text_model=model, exact_first=exact)
            start = time.perf_counter()
            report = lib.evaluate(queries, k=k, weights=setting, fusion=fusion)
            point = SweepPoint(model, fusion, dict(setting), exact)
            sweep.points.append((point, report, time.perf_counter() - start))
    return sweep
