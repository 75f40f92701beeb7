"""Retrieval sweeps: one library evaluated under each text model, fusion, weights and exact-first.

A library holds one text-vector collection per model (docs/architecture.md §3), so models are
compared on the same transcripts and scenes: a model whose vectors are missing is filled in
first (the ``text`` reindex, no transcription). The notebook 20_eval_retrieval logs each
setting's report to MLflow; nothing here touches MLflow.
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
    """One evaluated setting.

    ``granularity``, ``short_keyword_weight`` and ``rerank`` are the ranking grid's
    (``rank_grid``): the scene text unit the text signal scores, the keyword weight of a query of
    at most two content words, and the model that re-scores the text signal's best candidates.
    """

    text_model: str
    fusion: str
    weights: Mapping[str, float]
    exact_first: bool
    granularity: str = "sentence"
    short_keyword_weight: float | None = None
    rerank: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        return {
            "text_model": self.text_model,
            "fusion": self.fusion,
            "weights": dict(self.weights),
            "exact_first": self.exact_first,
            "granularity": self.granularity,
            "short_keyword_weight": self.short_keyword_weight,
            "rerank": self.rerank,
        }

    @property
    def name(self) -> str:
        weights = ",".join(f"{k}={v:g}" for k, v in self.weights.items())
        exact = "exact" if self.exact_first else "no-exact"
        extra = "" if self.granularity == "sentence" else f" {self.granularity}"
        if self.short_keyword_weight is not None:
            extra += f" short-keyword={self.short_keyword_weight:g}"
        if self.rerank:
            extra += f" rerank={self.rerank}"
        return f"{self.text_model} {self.fusion} {weights} {exact}{extra}"


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
                    "exact_first": point.exact_first, "granularity": point.granularity,
                    "short_keyword_weight": point.short_keyword_weight,
                    "rerank": point.rerank or "", "eval_s": seconds}  # fmt: skip
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
        for v in lib.store.videos.all()
        if v.state == VideoState.READY
        and any(s.text for s in lib.store.scenes.of_video(v.id))
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


# The ranking grid ----------------------------------------------------------------------------
#
# Re-embedding a library's scene text for each model and granularity through Chroma would take
# minutes per point; the grid embeds each (model, unit) once in memory and scores every setting
# from the same vectors, the same FTS5 keyword signal and the same exact-word tiers that search
# uses. The winner is then checked end to end with `Library.evaluate`.

# How a scene's transcript is cut into the units the text signal compares with the query; a
# scene scores its best unit ("scene+sentence": the mean of the whole scene's and the best
# sentence's similarity).
GRANULARITIES = ("sentence", "window", "scene", "scene+sentence")
SHORT_QUERY_WORDS = 2  # "short" for the query-adaptive keyword weight


def scene_units(text: str, granularity: str) -> list[str]:
    """The pieces of one scene's transcript that get a vector each under ``granularity``."""
    from heimdex_lab.ingest.scene_text import sentence_windows, sentences

    if granularity == "sentence":
        return sentences(text)
    if granularity == "window":
        return sentence_windows(text, 1)
    if granularity == "scene":
        return [text] if text.strip() else []
    raise ValueError(f"unknown granularity {granularity!r} (choose from: {GRANULARITIES})")


@dataclass
class _Corpus:
    """One library's scenes and one query set, with what every setting shares."""

    scene_ids: list[str]
    texts: list[str]
    screen: list[list[str]]
    queries: list[Any]
    qrels: dict[str, set[str]]
    keyword: dict[str, dict[str, float]]
    tiers: dict[str, dict[str, int]]
    units: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)
    query_vectors: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _corpus(lib: Library, queries: Path) -> _Corpus:
    from heimdex_lab.eval.queries import UNANSWERABLE, load_queries, relevant_scenes
    from heimdex_lab.search.engine import SearchEngine
    from heimdex_lab.search.exact import content_stems, match_tier
    from heimdex_lab.types import VideoState

    scenes = [
        scene
        for video in lib.store.videos.all()
        if video.state == VideoState.READY
        for scene in lib.store.scenes.of_video(video.id)
    ]
    # Visual queries need a real CLIP checkpoint; the grid compares text, keyword and screen.
    judged = [q for q in load_queries(queries) if q.kind not in ("visual", UNANSWERABLE)]
    qrels = relevant_scenes(lib, judged)
    judged = [q for q in judged if qrels[q.qid]]
    engine = SearchEngine(lib.settings, lib.catalog, lambda: lib.vectors)
    stems = {s.scene_id: content_stems(f"{s.text}\n{s.screen_text}") for s in scenes}
    keyword, tiers = {}, {}
    for q in judged:
        keyword[q.qid] = engine.keyword_scores(q.query)
        words = content_stems(q.query)
        if 0 < len(words) <= lib.settings.exact_max_words:
            tiers[q.qid] = {sid: match_tier(words, stems[sid]) for sid in keyword[q.qid]}
    return _Corpus(
        scene_ids=[s.scene_id for s in scenes],
        texts=[s.text for s in scenes],
        screen=[[line for line in s.screen_text.split("\n") if line] for s in scenes],
        queries=judged,
        qrels={q.qid: qrels[q.qid] for q in judged},
        keyword=keyword,
        tiers=tiers,
    )


def _embedder(model: str, lib: Library) -> Any:
    from heimdex_lab.embed.text import text_embedder

    return text_embedder(model, lib.settings.embed_batch_size)


def _units(corpus: _Corpus, lib: Library, model: str, granularity: str) -> tuple[Any, Any]:
    """(vectors, owning scene index) of every unit, embedded once per model and granularity."""
    import numpy as np

    key = (model, granularity)
    if key not in corpus.units:
        pieces = [
            (i, piece)
            for i, text in enumerate(corpus.texts)
            for piece in (
                corpus.screen[i] if granularity == "screen" else scene_units(text, granularity)
            )
        ]
        start = time.perf_counter()
        vectors = _embedder(model, lib).embed([piece for _, piece in pieces])
        corpus.seconds[f"{model} {granularity}"] = time.perf_counter() - start
        corpus.units[key] = (vectors, np.array([i for i, _ in pieces], dtype=np.int64))
    return corpus.units[key]


def _best_per_scene(corpus: _Corpus, vectors: Any, owner: Any, query: Any) -> Any:
    import numpy as np

    best = np.full(len(corpus.scene_ids), -np.inf)
    if len(owner):
        np.maximum.at(best, owner, vectors @ query)
    return best


def _text_similarity(corpus: _Corpus, lib: Library, model: str, granularity: str) -> Any:
    """(queries, scenes) similarity of the text signal; -inf where a scene has no unit.
    ``model`` may join several models with "+": their similarities are averaged."""
    import numpy as np

    if "+" in model:
        parts = [_text_similarity(corpus, lib, m, granularity) for m in model.split("+")]
        return np.mean(parts, axis=0)
    if granularity == "scene+sentence":
        return (
            _text_similarity(corpus, lib, model, "scene")
            + _text_similarity(corpus, lib, model, "sentence")
        ) / 2
    if model not in corpus.query_vectors:
        corpus.query_vectors[model] = _embedder(model, lib).embed([q.query for q in corpus.queries])
    vectors, owner = _units(corpus, lib, model, granularity)
    return np.stack(
        [_best_per_scene(corpus, vectors, owner, qv) for qv in corpus.query_vectors[model]]
    )


def _as_signal(corpus: _Corpus, row: Any, keep: Any = None) -> dict[str, float]:
    import numpy as np

    ok = np.isfinite(row) if keep is None else np.isfinite(row) & keep
    return {corpus.scene_ids[i]: float(row[i]) for i in np.flatnonzero(ok)}


def _grid_report(
    corpus: _Corpus, point: SweepPoint, text: Any, screen: Any, floor: float, k: int
) -> EvalReport:
    import numpy as np

    from heimdex_lab.eval.metrics import evaluate
    from heimdex_lab.search.exact import content_stems
    from heimdex_lab.search.fusion import exact_first, fuse, rank

    runs: dict[str, dict[str, list[str]]] = {"text": {}, "hybrid": {}}
    for n, q in enumerate(corpus.queries):
        dense = _as_signal(corpus, text[n])
        signals = {"text": dense, "keyword": corpus.keyword[q.qid]}
        if screen is not None:
            signals["screen"] = _as_signal(corpus, screen[n], screen[n] >= floor)
        weights = {name: float(point.weights.get(name, 0.0)) for name in signals}
        short = len(content_stems(q.query)) <= SHORT_QUERY_WORDS
        if point.short_keyword_weight is not None and short:
            weights["keyword"] = point.short_keyword_weight
        signals = {name: s for name, s in signals.items() if s}
        weights = {name: w for name, w in weights.items() if name in signals}
        fused = fuse(point.fusion, signals, weights) if any(weights.values()) else {}
        if point.exact_first and weights.get("keyword", 0.0) > 0 and q.qid in corpus.tiers:
            fused = exact_first(fused, corpus.tiers[q.qid])
        runs["hybrid"][q.qid] = rank(fused)[:k]
        order = np.argsort(-text[n], kind="stable")[:k]
        runs["text"][q.qid] = [corpus.scene_ids[i] for i in order if np.isfinite(text[n][i])]
    report = EvalReport(k=k, queries=len(corpus.queries), metrics={})
    kinds = sorted({q.kind for q in corpus.queries})
    for signal, run in runs.items():
        report.metrics[signal] = evaluate(run, corpus.qrels)
        for kind in kinds:
            subset = {q.qid: corpus.qrels[q.qid] for q in corpus.queries if q.kind == kind}
            report.by_kind.setdefault(kind, {})[signal] = evaluate(run, subset)
    for q in corpus.queries:
        report.rows.append({"qid": q.qid, "query": q.query, "kind": q.kind, "signal": "hybrid",
                            "ranked": runs["hybrid"][q.qid],
                            "relevant": sorted(corpus.qrels[q.qid])})  # fmt: skip
    return report


def _rerank(
    corpus: _Corpus, lib: Library, first: str, second: str, granularity: str, depth: int
) -> Any:
    """The text signal of ``second`` over the ``depth`` best scenes of ``first`` only."""
    import numpy as np

    retrieved = _text_similarity(corpus, lib, first, granularity)
    rescored = _text_similarity(corpus, lib, second, granularity)
    out = np.full_like(rescored, -np.inf)
    for n in range(len(out)):
        top = np.argsort(-retrieved[n], kind="stable")[:depth]
        out[n, top] = rescored[n, top]
    return out


def rank_grid(
    lib: Library,
    queries: Path,
    text_models: Sequence[str],
    granularities: Sequence[str] = ("sentence",),
    fusions: Sequence[str] = ("convex",),
    weights: Sequence[Mapping[str, float]] = ({"text": 1.0, "keyword": 0.1, "screen": 3.0},),
    short_keyword_weights: Sequence[float | None] = (None,),
    exact_first: Sequence[bool] = (True,),
    rerank: Sequence[str] = (),
    rerank_depth: int = 50,
    k: int = 10,
) -> tuple[Sweep, dict[str, float]]:
    """Every combination of the settings over ``lib``'s scenes and ``queries``; also the seconds
    each (model, granularity) took to embed the library's units (an ingest cost).

    ``text_models`` may name ensembles ("a+b": mean similarity); ``rerank`` names pairs
    "first>second": ``second`` re-scores ``first``'s ``rerank_depth`` best scenes.
    """
    import numpy as np

    corpus = _corpus(lib, queries)
    if not corpus.queries:
        raise ValueError(f"{queries}: no query has a relevant scene in this library")
    floor = lib.settings.screen_min_similarity
    sweep = Sweep()
    models = [(m, None) for m in text_models] + [
        (pair.split(">")[0], pair.split(">")[1]) for pair in rerank
    ]
    for model, second in models:
        has_screen = any(corpus.screen)
        screen = None
        if has_screen:
            screen_model = model.split("+")[0]
            vectors, owner = _units(corpus, lib, screen_model, "screen")
            if screen_model not in corpus.query_vectors:
                corpus.query_vectors[screen_model] = _embedder(screen_model, lib).embed(
                    [q.query for q in corpus.queries]
                )
            screen = np.stack(
                [
                    _best_per_scene(corpus, vectors, owner, qv)
                    for qv in corpus.query_vectors[screen_model]
                ]
            )
        for granularity in granularities:
            start = time.perf_counter()
            text = (
                _text_similarity(corpus, lib, model, granularity)
                if second is None
                else _rerank(corpus, lib, model, second, granularity, rerank_depth)
            )
            base = time.perf_counter() - start
            for fusion, setting, short, exact in itertools.product(
                fusions, weights, short_keyword_weights, exact_first
            ):
                point = SweepPoint(model, fusion, dict(setting), exact, granularity, short,
                                   f"{second}@{rerank_depth}" if second else None)  # fmt: skip
                start = time.perf_counter()
                report = _grid_report(corpus, point, text, screen, floor, k)
                sweep.points.append((point, report, base + time.perf_counter() - start))
    return sweep, dict(corpus.seconds)
