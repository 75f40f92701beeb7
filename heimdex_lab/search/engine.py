"""Hybrid scene search: dense text kNN, BM25 and CLIP signals, fused, filtered, paginated.

Each signal contributes at most ``search_candidates`` scenes (its best), so a query costs the
same at 1k or 100k scenes; ``total`` is the exact size of the fused result list that pages cut.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from heimdex_lab.config import Settings
from heimdex_lab.errors import ModelUnavailable, UsageError
from heimdex_lab.search.confidence import LEVELS, Confidence, check_level, label, similarity
from heimdex_lab.search.exact import content_stems, match_tier
from heimdex_lab.search.fusion import FUSIONS, exact_first, fuse, rank
from heimdex_lab.search.grouping import group_by_video, video_of
from heimdex_lab.search.snippet import query_terms, snippet
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.vectors import SCENE_IMAGE, SCENE_SCREEN, SCENE_TEXT, VectorStore
from heimdex_lab.types import Hit, Scene, SearchPage, VideoGroup

log = logging.getLogger(__name__)

# The signals scored with the text model's vector of the query.
TEXT_MODEL_SIGNALS = ("text", "screen")


@functools.cache
def _embedding_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="heimdex-query")


MODES: dict[str, tuple[str, ...]] = {
    "hybrid": ("text", "keyword", "image", "screen"),
    "text": ("text",),
    "keyword": ("keyword",),
    "visual": ("image",),
    "screen": ("screen",),
}
SIGNALS = ("text", "keyword", "image", "screen")
GROUPS = ("scene", "video")  # one result per scene (the default), or per video


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
        self._warned_model = False

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
        group: str = "scene",
    ) -> SearchPage:
        """``min_confidence`` (low, medium, high) keeps only results that sure or surer;
        ``total`` counts what it keeps. It does not change the order of what is kept.
        ``group="video"``: a result is a video with its best scenes (``SearchPage.groups``),
        in the order of its best scene; ``k``, ``page`` and ``total`` count videos."""
        query = (query or "").strip()
        if k < 1:
            raise UsageError(f"k must be at least 1 (got {k})")
        if page < 1:
            raise UsageError(f"page must be at least 1 (got {page})")
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r} (choose from: {', '.join(MODES)})")
        minimum = LEVELS.index(check_level(min_confidence))
        if group not in GROUPS:
            raise UsageError(f"unknown group {group!r} (choose from: {', '.join(GROUPS)})")
        fusion = fusion or self.settings.fusion
        if fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {fusion!r} (choose from: {', '.join(FUSIONS)})")
        videos = self._check_videos(videos)
        with_people = self._scenes_with(people) if people else None
        if not query:
            if not (people or videos):
                raise UsageError("empty query: give words to search for, or --person/--video")
            if group == "video":
                return self._grouped_listing(query, k, page, videos, with_people)
            return self._listing(query, k, page, videos, with_people)

        vector = None  # the text model's vector of this query, shared by its signals
        if any(signal in TEXT_MODEL_SIGNALS for signal in MODES[mode]):
            # Embedded on a worker thread while the keyword (and image) signals run: the two
            # overlap on two cores (onnxruntime and SQLite both release the GIL).
            vector = _embedding_pool().submit(self._embed, query)
        computed: dict[str, dict[str, float]] = {}
        for signal in sorted(MODES[mode], key=lambda name: name in TEXT_MODEL_SIGNALS):
            scores = self._signal(signal, query, videos, mode != "hybrid", vector)
            if scores is not None:
                computed[signal] = scores
        signals = {name: computed[name] for name in MODES[mode] if name in computed}
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
        if group == "video":
            return self._grouped(query, ranked, fused, signals, sure, page, k)
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
        self,
        signal: str,
        query: str,
        videos: Sequence[str],
        strict: bool,
        text_vector: Future[Any] | None,
    ) -> dict[str, float] | None:
        if signal == "keyword":
            return self.keyword_scores(query, videos)
        if signal in TEXT_MODEL_SIGNALS:
            assert text_vector is not None
            vector = text_vector.result()  # first: the worker loads the model once
            model = self._text_model()
            if signal == "text":
                found = self._knn(SCENE_TEXT, model.name, model.dim, vector, videos)
                if not found:
                    self._warn_other_model(model.name)
                return found
            shown = self._knn(SCENE_SCREEN, model.name, model.dim, vector, videos)
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

    def _text_model(self) -> Any:
        from heimdex_lab.embed.text import text_embedder

        return text_embedder(self.settings.text_model, self.settings.embed_batch_size)

    def _embed(self, query: str) -> Any:
        return self._text_model().embed([query])[0]

    def _warn_other_model(self, model: str) -> None:
        """Transcripts embedded with another text model only (a library made before the default
        changed): say so, once, instead of silently searching without meaning."""
        if self._warned_model:
            return
        self._warned_model = True
        have = self._vectors().models(SCENE_TEXT)
        others = [m for m in have if m != model]
        if others and model not in have:
            log.warning(
                "this library's transcripts are embedded with %s, not %s (the text model): "
                "search by meaning finds nothing until `heimdex reindex --stage text` embeds "
                "them again, or set HEIMDEX_TEXT_MODEL=%s",
                ", ".join(others),
                model,
                others[0],
            )

    def _knn(
        self, kind: str, model: str, dim: int, vector: Any, videos: Sequence[str]
    ) -> dict[str, float]:
        """Best cosine similarity per scene among its vectors (sentences or keyframes)."""
        # Several vectors per scene: ask for more than the scene budget. Ids are
        # "{scene_id}:{k}", so no metadata needs to come back. The collection is this owner's.
        n = self.settings.search_candidates * 3
        scores: dict[str, float] = {}
        for vector_id, distance in self._vectors().nearest(kind, model, dim, vector, n, videos):
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

    def _grouped(
        self,
        query: str,
        ranked: Sequence[str],
        scores: Mapping[str, float],
        signals: Mapping[str, Mapping[str, float]],
        sure: Mapping[str, Confidence],
        page: int,
        k: int,
    ) -> SearchPage:
        """A page of videos, each with its best ``group_scenes`` scenes of ``ranked``."""
        groups = group_by_video(ranked, self.settings.group_scenes)
        surest: dict[str, Confidence] = {}
        for sid in ranked:  # a video is as sure as its surest matching scene
            video_id = video_of(sid)
            if LEVELS.index(sure[sid]) >= LEVELS.index(surest.get(video_id, "low")):
                surest[video_id] = sure[sid]
        shown = groups[(page - 1) * k : page * k]
        ids = [sid for _, best, _ in shown for sid in best]
        found = self.store.scenes.by_id(ids)
        names = self.store.people.by_scene(ids)
        out = []
        for video_id, best, matched in shown:
            hits = tuple(
                self._hit(*found[s], scores.get(s, 0.0), signals, query, names, sure[s])
                for s in best
                if s in found
            )
            if hits:
                out.append(VideoGroup(video_id, hits[0].filename, hits[0].score,
                                      surest[video_id], matched, hits))  # fmt: skip
        return SearchPage(
            query=query,
            total=len(groups),
            page=page,
            k=k,
            hits=tuple(h for g in out for h in g.hits),
            groups=tuple(out),
        )

    def _grouped_listing(
        self, query: str, k: int, page: int, videos: Sequence[str], only: set[str] | None
    ) -> SearchPage:
        """No query, grouped by video: each video of the filters with its first scenes."""
        total, _ = self.store.scenes.listing(videos, 0, 1, only)
        _, rows = self.store.scenes.listing(videos, 0, max(total, 1), only)
        ranked = [scene.scene_id for scene, _ in rows]
        return self._grouped(query, ranked, {}, {}, dict.fromkeys(ranked, "high"), page, k)

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
