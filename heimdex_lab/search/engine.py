"""Hybrid scene search: dense text kNN, BM25 and CLIP signals, fused, filtered, paginated.

Each signal contributes at most ``search_candidates`` scenes (its best), so a query costs the
same at 1k or 100k scenes; ``total`` is the exact size of the fused result list that pages cut.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heimdex_lab.config import Settings
from heimdex_lab.errors import ModelUnavailable, UsageError
from heimdex_lab.search.confidence import LEVELS, Confidence, check_level, label, similarity
from heimdex_lab.search.exact import content_stems, match_tier
from heimdex_lab.search.fusion import FUSIONS, exact_first, fuse, rank
from heimdex_lab.search.snippet import query_terms, snippet
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.vectors import SCENE_IMAGE, SCENE_SCREEN, SCENE_TEXT, VectorStore
from heimdex_lab.types import Hit, Scene, SearchPage

log = logging.getLogger(__name__)

MODES: dict[str, tuple[str, ...]] = {
    "hybrid": ("text", "keyword", "image", "screen"),
    "text": ("text",),
    "keyword": ("keyword",),
    "visual": ("image",),
    "screen": ("screen",),
}
SIGNALS = ("text", "keyword", "image", "screen")


class SearchEngine:
    """Searches one owner's ready scenes."""

    def __init__(
        self, settings: Settings, catalog: Catalog, vectors: Callable[[], VectorStore]
    ) -> None:
        self.settings = settings
        self.owner = settings.user
        self.catalog = catalog
        self.store = catalog.for_owner(self.owner)  # every owned row is read through it
        self._vectors = vectors
        self._query_vector: Any = None

    def search(
        self,
        query: str,
        k: int = 10,
        page: int = 1,
        people: Sequence[str] = (),
        videos: Sequence[str] = (),
        mode: str = "hybrid",
        weights: Mapping[str, float] | None = None,
        fusion: str | None = None,
        min_confidence: str = "low",
    ) -> SearchPage:
        """``min_confidence`` (low, medium, high) keeps only results that sure or surer;
        ``total`` counts what it keeps. It does not change the order of what is kept."""
        query = (query or "").strip()
        if k < 1:
            raise UsageError(f"k must be at least 1 (got {k})")
        if page < 1:
            raise UsageError(f"page must be at least 1 (got {page})")
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r} (choose from: {', '.join(MODES)})")
        minimum = LEVELS.index(check_level(min_confidence))
        fusion = fusion or self.settings.fusion
        if fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {fusion!r} (choose from: {', '.join(FUSIONS)})")
        videos = self._check_videos(videos)
        with_people = self._scenes_with(people) if people else None
        if not query:
            if not (people or videos):
                raise UsageError("empty query: give words to search for, or --person/--video")
            return self._listing(query, k, page, videos, with_people)

        signals: dict[str, dict[str, float]] = {}
        self._query_vector = None  # the text model's vector of this query, shared by signals
        for signal in MODES[mode]:
            scores = self._signal(signal, query, videos, strict=mode != "hybrid")
            if scores is not None:
                signals[signal] = scores
        ready = self.store.videos.ready_ids()
        scene_video = {sid: sid.rsplit(":", 1)[0] for s in signals.values() for sid in s}
        allowed = {sid for sid, vid in scene_video.items() if vid in ready}
        if with_people is not None:
            allowed &= with_people
        signals = {
            name: {s: v for s, v in sc.items() if s in allowed} for name, sc in signals.items()
        }
        used_weights = dict(weights) if weights is not None else self.settings.weights
        if mode == "hybrid":
            fusion_weights = {name: used_weights.get(name, 0.0) for name in signals}
        else:
            fusion_weights = dict.fromkeys(signals, 1.0)
        try:
            fused = fuse(fusion, signals, fusion_weights, rrf_k=self.settings.rrf_k)
        except ValueError as exc:  # weights that switch every signal off, or negative ones
            raise UsageError(str(exc)) from None
        tiers = self._tiers(query, fused, signals.get("keyword", {}))
        if fusion_weights.get("keyword", 0.0) > 0 and self.settings.exact_first and tiers:
            fused = exact_first(fused, tiers)
        ranked = rank(fused)
        sure = {sid: self._confidence(sid, signals, tiers) for sid in ranked}
        if minimum:
            ranked = [sid for sid in ranked if LEVELS.index(sure[sid]) >= minimum]
        page_ids = ranked[(page - 1) * k : page * k]
        found = self.store.scenes.by_id(page_ids)
        names = self.store.people.by_scene(page_ids)
        hits = tuple(
            self._hit(found[sid][0], found[sid][1], fused[sid], signals, query, names, sure[sid])
            for sid in page_ids
            if sid in found
        )
        return SearchPage(query=query, total=len(ranked), page=page, k=k, hits=hits)

    # Signals -----------------------------------------------------------------------------------

    def _signal(
        self, signal: str, query: str, videos: Sequence[str], strict: bool
    ) -> dict[str, float] | None:
        if signal == "keyword":
            return self.keyword_scores(query, videos)
        if signal in ("text", "screen"):
            from heimdex_lab.embed.text import text_embedder

            model = text_embedder(self.settings.text_model, self.settings.embed_batch_size)
            if self._query_vector is None:
                self._query_vector = model.embed([query])[0]
            if signal == "text":
                return self._knn(SCENE_TEXT, model.name, model.dim, self._query_vector, videos)
            shown = self._knn(SCENE_SCREEN, model.name, model.dim, self._query_vector, videos)
            floor = self.settings.screen_min_similarity
            return {sid: sim for sid, sim in shown.items() if sim >= floor}
        if not strict and not self.store.videos.any_vision():
            return None  # no keyframe has an image vector: skip loading a CLIP model at all
        from heimdex_lab.embed.image import image_embedder

        try:
            clip = image_embedder(self.settings)
        except ModelUnavailable as exc:
            if strict:
                raise UsageError(f"visual search is off: {exc}") from exc
            return None
        vector = clip.embed_text([query])[0]
        return self._knn(SCENE_IMAGE, clip.collection_model, clip.dim, vector, videos)

    def keyword_scores(self, query: str, videos: Sequence[str] = ()) -> dict[str, float]:
        """The keyword signal: the words, said or shown; a scene scores its better field."""
        terms, n = query_terms(query), self.settings.search_candidates
        said = self.store.scenes.keyword_scores(terms, videos, n)
        shown = self.store.scenes.keyword_scores(terms, videos, n, field="screen")
        both = {sid: max(v, said.get(sid, v)) for sid, v in shown.items()}
        merged = {**said, **both}
        best = sorted(merged, key=lambda sid: -merged[sid])[:n]
        return {sid: merged[sid] for sid in best}

    def _tiers(
        self, query: str, fused: Mapping[str, float], keyword: Mapping[str, float]
    ) -> dict[str, int]:
        """How exactly the fused scenes hold the content words of a short query (``{}`` for a
        longer one): search ranks the exact ones first, and calls them sure.

        Only the keyword signal's scenes can hold them all (its index matches any of the words),
        so only their text is read.
        """
        words = content_stems(query)
        if not keyword or not 0 < len(words) <= self.settings.exact_max_words:
            return {}
        found = self.store.scenes.by_id([sid for sid in keyword if sid in fused])
        return {
            sid: match_tier(words, content_stems(f"{scene.text}\n{scene.screen_text}"))
            for sid, (scene, _) in found.items()
        }

    def _confidence(
        self, sid: str, signals: Mapping[str, Mapping[str, float]], tiers: Mapping[str, int]
    ) -> Confidence:
        scores = {name: signals.get(name, {}).get(sid) for name in SIGNALS}
        return label(
            similarity(scores),
            tiers.get(sid, 0),
            self.settings.confidence_high,
            self.settings.confidence_medium,
        )

    def _knn(
        self, kind: str, model: str, dim: int, vector: Any, videos: Sequence[str]
    ) -> dict[str, float]:
        """Best cosine similarity per scene among its vectors (sentences or keyframes)."""
        collection = self._vectors().collection(kind, model, dim)  # this owner's only
        # Several vectors per scene: ask for more than the scene budget. Ids are
        # "{scene_id}:{k}", so no metadata needs to come back.
        n = self.settings.search_candidates * 3
        where = {"video_id": {"$in": list(videos)}} if videos else None
        try:
            result = collection.query(
                query_embeddings=[vector.tolist()], n_results=n, where=where,
                include=["distances"],
            )  # fmt: skip
        except Exception:  # an empty collection cannot be queried
            if collection.count() == 0:
                return {}
            raise
        scores: dict[str, float] = {}
        for vector_id, distance in zip(result["ids"][0], result["distances"][0], strict=True):
            sid = vector_id.rsplit(":", 1)[0]
            similarity = 1.0 - float(distance)
            if similarity > scores.get(sid, -2.0):
                scores[sid] = similarity
        best = sorted(scores, key=lambda s: -scores[s])[: self.settings.search_candidates]
        return {sid: scores[sid] for sid in best}

    # Helpers -----------------------------------------------------------------------------------

    def _check_videos(self, videos: Sequence[str]) -> list[str]:
        out = []
        for video_id in videos:
            self.store.videos.get(video_id)  # NotFound for unknown or others' ids
            out.append(video_id)
        return out

    def _scenes_with(self, people: Sequence[str]) -> set[str]:
        """Scenes in which every named person was matched (NotFound for an unknown name)."""
        ids = [self.store.people.by_name(name).id for name in people]
        return self.store.people.scenes_with(ids)

    def _listing(
        self, query: str, k: int, page: int, videos: Sequence[str], only: set[str] | None
    ) -> SearchPage:
        total, rows = self.store.scenes.listing(videos, (page - 1) * k, k, only)
        names = self.store.people.by_scene([scene.scene_id for scene, _ in rows])
        # No query, nothing to be unsure of: every scene of the filters is what was asked for.
        hits = tuple(
            self._hit(scene, filename, 0.0, {}, query, names, "high") for scene, filename in rows
        )
        return SearchPage(query=query, total=total, page=page, k=k, hits=hits)

    def _hit(
        self,
        scene: Scene,
        filename: str,
        score: float,
        signals: Mapping[str, Mapping[str, float]],
        query: str,
        people: Mapping[str, list[str]],
        confidence: Confidence,
    ) -> Hit:
        scores: dict[str, float | None] = {}
        for name in SIGNALS:
            value = signals.get(name, {}).get(scene.scene_id)
            scores[name] = round(value, 6) if value is not None else None
        keyframe = (
            str(self.settings.library.resolve() / scene.keyframes[len(scene.keyframes) // 2])
            if scene.keyframes
            else None
        )
        return Hit(
            scene_id=scene.scene_id,
            video_id=scene.video_id,
            filename=filename,
            start=scene.start,
            end=scene.end,
            score=round(score, 6),
            scores=scores,
            text=scene.text,
            snippet=snippet(scene, query),
            people=tuple(people.get(scene.scene_id, ())),
            keyframe=keyframe,
            screen_text=scene.screen_text,
            confidence=confidence,
        )
