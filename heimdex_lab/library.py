"""The public façade: one library directory, one user; everything else is built on this."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heimdex_lab.config import Settings
from heimdex_lab.errors import NotFound, NotResumable, UsageError, VideoBusy
from heimdex_lab.ingest import lease
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.media import MediaStore, upload_dir
from heimdex_lab.store.schema import VideoRow
from heimdex_lab.types import (
    IngestResult,
    ModelStatus,
    Person,
    PersonList,
    SceneDetail,
    SceneList,
    SceneMatch,
    SceneSummary,
    ScreenMark,
    SearchPage,
    Sentence,
    Video,
    VideoList,
    VideoPage,
    VideoState,
)

# polars and the ingest pipeline (its stages import numpy, OCR, media tools) are imported where
# used: a search or a listing from a new process does not pay for them (issue "start fast").
if TYPE_CHECKING:
    import polars as pl

    from heimdex_lab.eval.queries import EvalReport
    from heimdex_lab.ingest.pipeline import Pipeline, ProgressFn
    from heimdex_lab.people import People, PersonResult
    from heimdex_lab.store.vectors import VectorStore

log = logging.getLogger(__name__)

REINDEX_STAGES = ("text", "image", "faces", "ocr")


class TqdmProgress:
    """One progress bar per video (tqdm.auto: a widget in Jupyter, stderr in a terminal)."""

    def __init__(self) -> None:
        self._bars: dict[str, Any] = {}

    def __call__(self, label: str, stage: str, fraction: float) -> None:
        from tqdm.auto import tqdm

        from heimdex_lab.ingest.pipeline import STAGES

        bar = self._bars.get(label)
        if bar is None:
            bar = tqdm(
                total=len(STAGES),
                desc=Path(label).name,
                unit="stage",
                leave=True,
                disable=None,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
            )
            self._bars[label] = bar
        done = (
            len(STAGES) if stage == VideoState.READY else STAGES.index(VideoState(stage)) + fraction
        )
        bar.n = round(done, 3)
        bar.set_postfix_str(stage, refresh=True)
        if stage == VideoState.READY:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


class Library:
    """A video library: ``Library.open("data/library").ingest(paths)``, then query it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = settings.library
        self.path.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(settings.catalog_url)
        self.store = self.catalog.for_owner(settings.user)  # this user's videos, scenes, people
        remote = None
        if settings.supabase_url:  # Supabase Storage holds the media; the library caches it
            from heimdex_lab.store.blobs import blob_store

            remote = blob_store(settings, self.path / "media")
        self.media = MediaStore(self.path, remote=remote)
        self._vectors: VectorStore | None = None

    @classmethod
    def open(
        cls, path: str | Path | None = None, user: str | None = None, **settings: Any
    ) -> Library:
        """Open (creating if missing) the library at ``path`` as ``user``; other keyword
        arguments override settings (``whisper_model=...``, ``image_checkpoint=...``)."""
        values = dict(settings)
        if path is not None:
            values["library"] = Path(path)
        if user is not None:
            values["user"] = user
        return cls(Settings(**values))

    @property
    def user(self) -> str:
        return self.settings.user

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            from heimdex_lab.store.vectors import VectorStore

            self._vectors = VectorStore(
                self.path / "vectors", url=self.settings.chroma_url, owner=self.user,
                exact_max=self.settings.exact_knn_max_vectors,
            )  # fmt: skip
        return self._vectors

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _pipeline(self, progress: ProgressFn | None, wait: bool = True) -> Pipeline:
        from heimdex_lab.ingest.pipeline import Pipeline

        pipeline = Pipeline(self.settings, self.catalog, lambda: self.vectors, self.media, progress)
        pipeline.wait_for_lease = wait
        return pipeline

    # Ingest --------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path] | str | Path,
        executor: str = "local",
        progress: bool | ProgressFn = True,
        address: str | None = None,
    ) -> list[IngestResult]:
        """Ingest files; one result per path, in order. A bad file never stops the batch.

        ``executor``: "local" (this process) or "ray": one Ray task per file, on the cluster at
        ``address`` (``auto``, ``ray://host:10001``) or a local Ray instance; see
        ``heimdex_lab.ingest.executors`` for what a multi-machine cluster needs.
        """
        from heimdex_lab.ingest.executors import ingest_executor

        runner = ingest_executor(executor, address)
        if isinstance(paths, str | Path):
            paths = [paths]
        with self._reporting(progress) as pipeline:
            return runner.ingest(pipeline, [Path(p) for p in paths])

    def ingest_upload(
        self,
        path: Path,
        filename: str,
        progress: ProgressFn | None = None,
        video_id: str | None = None,
    ) -> IngestResult:
        """Ingest a file stored under a name of ours; ``filename`` (the user's) is metadata.
        ``video_id`` is the id the upload was promised (see ``Pipeline.ingest``)."""
        return self._pipeline(progress).ingest(path, display_name=filename, video_id=video_id)

    def resume(self, progress: bool | ProgressFn = True) -> list[IngestResult]:
        """Finish every unfinished video (queued, interrupted or failed) of this user; a video
        another process is ingesting is waited for."""
        with self._reporting(progress) as pipeline:
            return [self._resume(pipeline, v.id) for v in self.store.videos.unfinished()]

    def resume_video(
        self, video_id: str, progress: ProgressFn | None = None, wait: bool = True
    ) -> IngestResult:
        """Go on with one queued, interrupted or failed video from where it stopped. With
        ``wait=False`` a video another live process works on is left to it (returned as is)."""
        return self._resume(self._pipeline(progress, wait), video_id)

    def _resume(self, pipeline: Pipeline, video_id: str) -> IngestResult:
        row = self.store.videos.get(video_id)
        if row.state != VideoState.QUEUED:
            return pipeline.run(video_id, row.filename)
        # A received upload that was never ingested: ingest its file now, under its promised id.
        if not lease.try_claim(self.catalog, video_id, self.settings.lease_s):
            return IngestResult(row.filename, video_id, VideoState.QUEUED, VideoState.QUEUED,
                                None, 0, False, None)  # fmt: skip
        path = self.upload_dir / (row.upload_name or "")
        if not row.upload_name or not path.is_file():
            reason = "the upload's file is gone (the server lost it); upload the video again"
            self.catalog.delete_video(video_id)
            rejected = self.store.videos.add_rejected(video_id, row.filename, reason)
            return IngestResult(row.filename, video_id, VideoState.REJECTED, rejected.stage,
                                None, 0, False, f"{row.filename}: {reason}")  # fmt: skip
        return pipeline.ingest(path, row.filename, video_id, remove_source=True)

    @property
    def upload_dir(self) -> Path:
        """Where received uploads wait for ingest (names of ours, never the user's)."""
        return upload_dir(self.path)

    @contextmanager
    def _reporting(self, progress: bool | ProgressFn) -> Iterator[Pipeline]:
        """A pipeline reporting to tqdm bars (True), to a callback, or to nobody (False)."""
        reporter = TqdmProgress() if progress is True else (progress or None)
        try:
            yield self._pipeline(reporter)
        finally:
            if isinstance(reporter, TqdmProgress):
                reporter.close()

    def retry(self, video_id: str, progress: bool | ProgressFn = False) -> IngestResult:
        """Run a failed or interrupted video again from its first unfinished stage."""
        row = self.store.videos.get(video_id)
        if row.state == VideoState.REJECTED:
            raise NotResumable(f"{row.filename} was rejected ({row.error}); nothing to retry",
                               "rejected")  # fmt: skip
        with self._reporting(progress) as pipeline:
            return self._resume(pipeline, video_id)

    def resumable(self, video_id: str) -> VideoRow:
        """The video, when it can be resumed now; else NotResumable saying why (another
        process is on it, it was rejected, or it is ready)."""
        row = self.store.videos.get(video_id)
        if lease.is_live(row):
            raise NotResumable(f"{row.filename} is being ingested already", "busy")
        if row.state == VideoState.REJECTED:
            raise NotResumable(f"{row.filename} was rejected ({row.error}); nothing to retry",
                               "rejected")  # fmt: skip
        if row.state == VideoState.READY:
            raise NotResumable(f"{row.filename} is ready; nothing to retry", "ready")
        return row

    def delete_video(self, video_id: str) -> None:
        """Delete a video and everything derived from it: media and its browser-playable copy
        (unless another video of the same bytes uses them), keyframes, face crops, vectors,
        scenes, transcript and jobs. A video another live process is ingesting is refused
        (VideoBusy): delete it when that ends."""
        row = self.store.videos.get(video_id)
        if lease.is_live(row):
            raise VideoBusy(f"{row.filename} is being ingested; delete it after", "busy")
        if row.sha256 is not None:
            self.vectors.delete_video(video_id)
        self.catalog.delete_video(video_id)
        for folder in (self.media.keyframe_dir(video_id), self.path / "faces" / video_id):
            shutil.rmtree(folder, ignore_errors=True)
        if row.media_name and not self.catalog.media_in_use(row.media_name):
            self.media.remove(row.media_name)
            for name in self.media.proxy_names(row.media_name):
                self.media.remove(name)

    def media_path(self, video_id: str) -> Path:
        """The file the player gets for one of this user's videos: the browser-playable copy
        when the stored file needed one, else the stored file (NotFound for others' ids)."""
        row = self.store.videos.get(video_id)
        if not row.media_name:
            raise NotFound(f"video {video_id!r} has no stored media")
        return self.media.proxy_path(row.media_name) or self.media.path(row.media_name)

    def reindex(self, stage: str = "image", video_id: str | None = None) -> int:
        """Recompute one stage's output for ready videos, without transcribing again: "text"
        (the text model's vectors of transcript and on-screen text), "image" (vectors),
        "faces", or "ocr" (reads on-screen text again, and its vectors); returns how many videos
        were done."""
        if stage not in REINDEX_STAGES:
            raise UsageError(f"unknown stage {stage!r} (choose from: {', '.join(REINDEX_STAGES)})")
        rows = [self.store.videos.get(video_id)] if video_id else self.store.videos.all()
        rows = [r for r in rows if r.state == VideoState.READY]
        pipeline = self._pipeline(None)
        if stage == "image":
            from heimdex_lab.embed.image import image_embedder

            image_embedder(self.settings)  # raises ModelUnavailable with the fix
        for row in rows:
            scenes = self.store.scenes.of_video(row.id)
            if stage == "text":  # both kinds of text vector are the text model's
                pipeline.embed_text(row.id, scenes)
                pipeline.embed_screen_text(row.id, scenes)
            elif stage == "faces":
                faces = pipeline.find_faces(row.id, scenes)
                with self.catalog.session() as s:
                    self.catalog.replace_faces(s, row.id, faces)
            elif stage == "ocr":
                from heimdex_lab.ingest.ocr import scene_screen_text

                lines = pipeline.read_screen_text(scenes)
                texts = scene_screen_text(lines)
                with self.catalog.session() as s:
                    self.store.scenes.replace_screen_lines(s, row.id, lines, texts)
                pipeline.embed_screen_text(row.id, self.store.scenes.of_video(row.id))
            else:
                pipeline.embed_images(row.id, scenes)
                self.catalog.set_vision(row.id, True)
        return len(rows)

    # Queries -------------------------------------------------------------------------------

    def videos(self) -> VideoList:
        """Every video of this user, oldest first (rejected files included, with the reason);
        ``.frame`` for a DataFrame."""
        counts = self.store.scenes.counts()
        progress = self.store.videos.progress()
        return VideoList(
            _video(v, progress.get(v.id, 0.0), counts.get(v.id, 0)) for v in self.store.videos.all()
        )

    def states(self) -> list[tuple[str, str, str | None, float]]:
        """(video id, state, stage, progress of that stage) of every video, oldest first: what
        a view that polls for changes needs, without `videos()`'s per-video scene count (a
        GROUP BY over every scene: ~30 ms at 10k scenes, once a second per open page)."""
        progress = self.store.videos.progress()
        return [(v.id, v.state, v.stage, _progress(v, progress.get(v.id, 0.0)))
                for v in self.store.videos.all()]  # fmt: skip

    def video(self, video_id: str) -> Video:
        """One video as `videos()` lists it, read from its own rows only (NotFound for
        unknown or another user's id)."""
        row = self.store.videos.get(video_id)
        job = next((j for j in self.catalog.jobs(video_id) if j.stage == row.stage), None)
        scenes = len(self.store.scenes.of_video(video_id))
        return _video(row, job.progress if job else 0.0, scenes)

    def scenes(self, video_id: str) -> SceneList:
        """The scenes of one video in time order; ``.frame`` for a DataFrame."""
        self.store.videos.get(video_id)  # NotFound for unknown or another user's id
        scenes = self.store.scenes.of_video(video_id)
        people = self.store.people.by_scene([s.scene_id for s in scenes])
        return SceneList(
            SceneSummary(s.scene_id, s.no, float(s.start), float(s.end), s.text, s.screen_text,
                         tuple(people.get(s.scene_id, ())), s.keyframes)
            for s in scenes
        )  # fmt: skip

    # Search --------------------------------------------------------------------------------

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
        language: str | None = None,
        min_confidence: str = "low",
        group: str = "scene",
    ) -> SearchPage:
        """Ranked scenes for ``query``: ``page.hits`` (dataclasses) and ``page.frame`` (Polars).
        ``language`` (ISO 639-1, e.g. ``es``) keeps videos whose speech is in that language;
        ``min_confidence`` (low, medium, high) keeps results that sure or surer (each hit's
        ``confidence``; low: all of them). ``group="video"``: one result per video, with its
        best ``group_scenes`` scenes (``page.groups``); ``k``, ``page``, ``total`` count videos."""
        from heimdex_lab.search.confidence import check_level
        from heimdex_lab.search.engine import SearchEngine

        check_level(min_confidence)

        if language:
            spoken = self.store.videos.in_language(language.strip().lower())
            videos = [v for v in videos if v in spoken] if videos else sorted(spoken)
            if not videos:
                return SearchPage(query, 0, page, k, (), () if group == "video" else None)
        engine = SearchEngine(self.settings, self.catalog, lambda: self.vectors)
        return engine.search(
            query, k, page, tuple(people), tuple(videos), mode, weights, fusion, min_confidence,
            group,
        )  # fmt: skip

    def transcript(self, video_id: str) -> list[Sentence]:
        """One video's transcript as sentences timed by their words, in time order (NotFound
        for unknown or another user's id)."""
        from heimdex_lab.ingest.scene_text import timed_sentences

        self.store.videos.get(video_id)  # segments carry no owner: check it first
        return timed_sentences(self.catalog.segments(video_id))

    def video_page(
        self, video_id: str, query: str | None = None, min_confidence: str = "low"
    ) -> VideoPage:
        """What the app's video page shows for one video: its transcript as timed sentences,
        its scenes (keyframes, on-screen text, people) and, for ``query``, its scenes that
        match (at least ``min_confidence``), best first: the marks along the seek bar."""
        row = self.store.videos.get(video_id)
        scenes = self.store.scenes.of_video(video_id)
        people = self.store.people.by_scene([s.scene_id for s in scenes])
        matches: tuple[SceneMatch, ...] = ()
        query = (query or "").strip()
        if query and scenes and row.state == VideoState.READY:
            found = self.search(query, k=len(scenes), videos=[video_id],
                                min_confidence=min_confidence)  # fmt: skip
            matches = tuple(
                SceneMatch(h.scene_id, h.start, h.end, h.score, h.confidence) for h in found.hits
            )
        return VideoPage(
            video_id=video_id,
            filename=row.filename,
            duration_s=row.duration_s,
            sentences=tuple(self.transcript(video_id)),
            scenes=tuple(scenes),
            people=people,
            query=query,
            matches=matches,
        )

    def screen_marks(self, page: SearchPage) -> dict[str, ScreenMark]:
        """For each hit of ``page`` whose on-screen text holds a word of the query: the keyframe
        showing most of those lines and their boxes, for drawing over it (the app's cards)."""
        from heimdex_lab.search.snippet import matching_lines

        lines = self.store.scenes.screen_lines([h.scene_id for h in page.hits])
        by_scene: dict[str, list[Any]] = {}
        for line in matching_lines(lines, page.query):
            by_scene.setdefault(line.scene_id, []).append(line)
        marks = {}
        for scene_id, found in by_scene.items():
            scene, _filename = self.store.scenes.get(scene_id)
            counts = {
                k: sum(ln.keyframe == k for ln in found) for k in {ln.keyframe for ln in found}
            }
            middle = len(scene.keyframes) // 2  # the card's picture, unless another shows more
            best = max(counts, key=lambda k: (counts[k], k == middle, -k))
            if best >= len(scene.keyframes):
                continue  # lines of a keyframe since removed: nothing to draw on
            boxes = tuple(ln.box for ln in found if ln.keyframe == best)
            marks[scene_id] = ScreenMark(scene_id, best, scene.keyframes[best], boxes)
        return marks

    def scene(self, scene_id: str) -> SceneDetail:
        """One scene with the lines read on screen, its video's file name, the neighbouring
        scenes and the video's full transcript."""
        scene, filename = self.store.scenes.get(scene_id)
        siblings = [s.scene_id for s in self.store.scenes.of_video(scene.video_id)]
        at = siblings.index(scene_id)
        transcript = " ".join(seg.text for seg in self.catalog.segments(scene.video_id))
        return SceneDetail(
            scene_id=scene.scene_id,
            no=scene.no,
            start=scene.start,
            end=scene.end,
            text=scene.text,
            screen_text=scene.screen_text,
            screen_lines=tuple(self.store.scenes.screen_lines([scene_id])),
            people=tuple(self.store.people.by_scene([scene_id]).get(scene_id, ())),
            keyframes=scene.keyframes,
            video_id=scene.video_id,
            filename=filename,
            neighbours=tuple(siblings[max(0, at - 1) : at] + siblings[at + 1 : at + 2]),
            transcript=transcript,
        )

    def evaluate(
        self,
        queries: str | Path,
        k: int = 10,
        weights: Mapping[str, float] | None = None,
        fusion: str | None = None,
    ) -> EvalReport:
        """Retrieval metrics of each signal and of the fusion on a QUERIES.jsonl file."""
        from heimdex_lab.eval.queries import evaluate_library, load_queries

        return evaluate_library(self, load_queries(Path(queries)), k, weights, fusion)

    # People --------------------------------------------------------------------------------

    @property
    def people(self) -> People:
        """Enrol, rename, merge, remove people; group and name unknown faces."""
        from heimdex_lab.people import People

        return People(self.settings, self.catalog, lambda: self.vectors)

    def add_person(self, name: str, photos: Sequence[str | Path]) -> PersonResult:
        """Enrol ``name`` from photos holding exactly one face each; stored faces re-match."""
        return self.people.add(name, [Path(p) for p in photos])

    def people_list(self) -> PersonList:
        """Every person of this user, by name: photos and the number of scenes they appear
        in; ``.frame`` for a DataFrame."""
        return PersonList(Person(*counts) for counts in self.store.people.counts())

    def people_frame(self) -> pl.DataFrame:
        """`people_list()` as a DataFrame."""
        return self.people_list().frame

    def person_faces(self) -> dict[str, Path]:
        """Per person id: a picture of their face (a matched face's crop, else the face cut from
        their first photo, else that photo), for the app's people cards."""
        from heimdex_lab.people import face_picture

        pictures = {}
        for person_id, relative in self.store.people.pictures().items():
            path = self.path / relative
            face = face_picture(path)
            pictures[person_id] = face if face.is_file() else path
        return pictures

    def merge_people(self, names: Sequence[str], into: str) -> PersonResult:
        """Fold every person of ``names`` (other than ``into``) into the person ``into``."""
        sources = [n for n in dict.fromkeys(names) if n != into]
        if not sources:
            raise UsageError("choose at least two people to merge")
        for name in sources:
            result = self.people.merge(name, into)
        return result

    def covers(self) -> dict[str, tuple[str, Path]]:
        """Per video id: the keyframe that stands for the video (its middle scene's middle one)
        and that scene's id; videos without keyframes yet are left out."""
        return {
            video_id: (scene_id, self.path / keyframe)
            for video_id, (scene_id, keyframe) in self.store.scenes.covers().items()
        }

    def models(self) -> list[ModelStatus]:
        from heimdex_lab.embed.registry import model_statuses

        return model_statuses(self.settings)


def _progress(v: VideoRow, progress: float) -> float:
    return 1.0 if v.state == VideoState.READY else round(float(progress), 3)


def _video(v: VideoRow, progress: float, scenes: int) -> Video:
    return Video(
        video_id=v.id,
        filename=v.filename,
        state=str(shown_state(v)),
        stage=v.stage,
        progress=_progress(v, progress),
        duration_s=_float(v.duration_s),
        scenes=scenes,
        language=v.language,
        language_probability=_float(v.language_probability),
        error=v.error,
    )


def _float(value: float | None) -> float | None:
    """A REAL column's value as a float (SQLite may hand back an int), None kept."""
    return None if value is None else float(value)


def shown_state(row: VideoRow) -> str:
    """The state a user sees: a video in a stage that no live process works on (its worker
    died: a crash, a kill, a restart) is ``interrupted``, not progressing."""
    from heimdex_lab.ingest.pipeline import STAGES

    if row.state in STAGES and not lease.is_live(row):
        return VideoState.INTERRUPTED
    return row.state
