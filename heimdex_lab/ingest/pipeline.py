"""The ingest runner: validation, the stage table and state machine, progress, resume.
See docs/architecture.md §1-2.

Stages are functions of typed inputs; this module owns state and storage. Each stage first drops
its own partial output, then commits its new output and the next state in one transaction, so a
crash at any moment resumes at the first unfinished stage without duplicating a scene or vector.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heimdex_lab.config import Settings
from heimdex_lab.errors import HeimdexError, InvalidVideo, ModelUnavailable, NotFound
from heimdex_lab.ingest import lease, scene_text
from heimdex_lab.ingest.keyframes import extract_keyframes
from heimdex_lab.ingest.ocr import OcrEngine, ocr_engine, read_screen_text, scene_screen_text
from heimdex_lab.ingest.scenes import detect_scenes
from heimdex_lab.ingest.transcript import Transcript, transcribe_file
from heimdex_lab.media.probe import probe
from heimdex_lab.media.proxy import make_proxy, needs_proxy, proxy_format
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.media import MediaStore, sha256_file
from heimdex_lab.store.schema import FaceRow, VideoRow
from heimdex_lab.store.vectors import FACES, SCENE_IMAGE, SCENE_SCREEN, SCENE_TEXT, VectorStore
from heimdex_lab.types import IngestResult, Scene, SceneSpan, ScreenLine, VideoState

if TYPE_CHECKING:
    from heimdex_lab.embed.face import FaceBackend
    from heimdex_lab.ingest.faces import FoundFace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOutput:
    """What a stage produced: ``write`` puts it in the catalog inside the transaction that also
    moves the video to its next state; ``models`` and ``video`` values are recorded with it."""

    write: Callable[[Session], None]
    models: dict[str, Any] | None = None
    video: dict[str, Any] = field(default_factory=dict)


# The stages in ingest order: state → the Pipeline method that runs it. A new stage is one
# entry here and one method; the runner commits each and moves on to the next entry.
_STEPS: dict[VideoState, str] = {
    VideoState.TRANSCRIBING: "_transcribe",
    VideoState.DETECTING_SCENES: "_detect_scenes",
    VideoState.KEYFRAMES: "_keyframes",
    VideoState.OCR: "_read_screen_text",
    VideoState.EMBEDDING: "_embed",
    VideoState.FACES: "_faces",
}
STAGES: tuple[VideoState, ...] = tuple(_STEPS)

# (video label, stage, fraction of that stage done)
ProgressFn = Callable[[str, str, float], None]

# Progress is written to the catalog at most this often, so watchers see it move.
_PROGRESS_WRITE_S = 0.5
# Share of the keyframes stage's progress bar that a proxy transcode takes, when one is made.
_PROXY_SHARE = 0.8


@functools.cache
def _executor() -> ThreadPoolExecutor:
    """One thread for work done ahead of its stage (scene detection, face detection)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="heimdex-ahead")


@dataclass(frozen=True)
class _FacesFound:
    """The faces stage's work before anything is stored: the backend and what it found."""

    backend: FaceBackend
    found: list[FoundFace]


def _name(path: Path, display_name: str | None) -> str:
    """The file name to show: control characters dropped, directories never kept."""
    raw = Path(display_name).name if display_name else (path.name or str(path))
    return "".join(ch for ch in raw if ch.isprintable()).strip() or "unnamed"


def _recorded(source: Path, remove: bool) -> None:
    """The catalog now holds what became of ``source``: drop it if it was only a received upload."""
    if remove:
        source.unlink(missing_ok=True)


def _screen_lines(scene: Scene) -> list[str]:
    return [line for line in scene.screen_text.split("\n") if line]


def video_id_for(owner: str, sha256: str) -> str:
    """Same bytes and owner → same id, so a re-ingest finds the video it already has."""
    return hashlib.sha256(f"{owner}\n{sha256}".encode()).hexdigest()[:16]


class Pipeline:
    """Ingests files for one owner into one library."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        vectors: Callable[[], VectorStore],
        media: MediaStore,
        progress: ProgressFn | None = None,
    ) -> None:
        self.settings = settings
        self.owner = settings.user
        self.catalog = catalog
        self.store = catalog.for_owner(self.owner)  # every owned row is read through it
        self._vectors = vectors
        self.media = media
        self.progress = progress
        self._image_checked = False
        self._image_model: object | None = None
        self._image_lock = threading.Lock()
        self._warmed = False
        self._faces_warned = False
        self._ahead: tuple[str, Future[list[SceneSpan]]] | None = None
        self._faces_ahead: tuple[str, Future[_FacesFound | None]] | None = None
        # Another process holds the video: wait for it (True) or leave it to that one.
        self.wait_for_lease = True

    # Entry points ---------------------------------------------------------------------------

    def ingest(
        self,
        path: Path,
        display_name: str | None = None,
        video_id: str | None = None,
        remove_source: bool = False,
    ) -> IngestResult:
        """Validate, store and process one file; never raises for a bad or failing file.

        ``display_name`` is the user's name for the file (an upload's original name); it is
        metadata only and never becomes a path. ``video_id`` is the id an upload was promised
        (``video_id_for`` its bytes): a rejection is recorded under it, so it can be looked up.
        ``remove_source``: delete ``path`` (a received upload) as soon as the catalog records
        what became of it, so a crash after that point leaves no second copy behind.
        """
        filename = display_name or str(path)
        try:
            info = probe(path, self.settings)
            sha = sha256_file(path)
        except InvalidVideo as exc:
            row = self._reject(video_id, _name(path, display_name), exc.reason)
            log.warning("rejected %s: %s", filename, exc.reason)
            _recorded(path, remove_source)
            return self._result(row, filename, error=f"{filename}: {exc.reason}")
        except OSError as exc:
            reason = f"cannot read the file: {exc.strerror or exc}"
            row = self._reject(video_id, _name(path, display_name), reason)
            _recorded(path, remove_source)
            return self._result(row, filename, error=f"{filename}: {reason}")
        existing = self.store.videos.find_by_sha(sha)
        if existing is not None:
            _recorded(path, remove_source)
            if existing.state == VideoState.READY:
                return self._result(existing, filename, duplicate=True)
            return self.run(existing.id, filename, duplicate=True)
        video_id = video_id_for(self.owner, sha)
        try:
            media_name = self.media.put(path, sha, info.container)
        except OSError as exc:  # disk full, permissions: nothing was stored, the batch goes on
            reason = f"cannot store the file in the library: {exc.strerror or exc}"
            log.error("%s: %s", filename, reason)
            return IngestResult(filename, None, VideoState.FAILED, VideoState.VALIDATING,
                                info.duration_s, 0, False, f"{filename}: {reason}")  # fmt: skip
        self.catalog.drop_queued(video_id)  # the upload's waiting row gives way to the video
        try:
            self.store.videos.add_accepted(
                video_id, _name(path, display_name), sha, info, media_name
            )
        except IntegrityError:
            if self.store.videos.find_by_sha(sha) is None:
                raise
            # Another process added the same bytes a moment ago: continue that video.
            _recorded(path, remove_source)
            return self.run(video_id, filename, duplicate=True)
        _recorded(path, remove_source)
        return self.run(video_id, filename)

    def _reject(self, video_id: str | None, name: str, reason: str) -> VideoRow:
        """Record a rejection; under the promised id unless a kept video already has it."""
        if video_id is not None:
            with contextlib.suppress(NotFound):
                if self.store.videos.get(video_id).state not in (
                    VideoState.REJECTED, VideoState.QUEUED,
                ):  # fmt: skip
                    video_id = None  # never replace an accepted video by a rejection
                else:  # the same bad bytes sent again, or this upload's waiting row
                    self.catalog.delete_video(video_id)
        video_id = video_id or uuid.uuid4().hex[:16]
        return self.store.videos.add_rejected(video_id, name, reason)

    def run(self, video_id: str, file: str | None = None, duplicate: bool = False) -> IngestResult:
        """Run the remaining stages of an accepted video, from its first unfinished stage.

        The video is claimed first (ingest/lease.py): while another live process works on it,
        this waits for that one to finish (``wait_for_lease``, the CLI's way) or returns the
        video as it stands (the server's worker, which takes other work meanwhile).
        """
        row = self.store.videos.get(video_id)
        label = file or row.filename
        if row.state in (VideoState.READY, VideoState.REJECTED):
            return self._result(row, label, duplicate=duplicate)
        if not self._claim(row, label):
            return self._result(self.store.videos.get(video_id), label, duplicate)
        with lease.heartbeat(self.catalog, video_id, self.settings.lease_s):
            return self._run_claimed(video_id, label, duplicate)

    def _claim(self, row: VideoRow, label: str) -> bool:
        waited = False
        while not lease.try_claim(self.catalog, row.id, self.settings.lease_s):
            current = self.store.videos.get(row.id)
            if not self.wait_for_lease or current.state in (VideoState.READY, VideoState.REJECTED):
                return False
            if not waited:
                waited = True
                log.info("%s: another process (%s) is ingesting it; waiting for it to finish",
                         label, current.lease_owner)  # fmt: skip
            time.sleep(min(1.0, self.settings.lease_s / 3))
        return True

    def _run_claimed(self, video_id: str, label: str, duplicate: bool) -> IngestResult:
        row = self.store.videos.get(video_id)  # as it is now that it is ours
        first = VideoState(
            (row.stage or row.state) if row.state == VideoState.FAILED else row.state
        )
        if first == VideoState.READY:
            return self._result(row, label, duplicate=duplicate)
        self._warm_up(speech=first == VideoState.TRANSCRIBING and bool(row.has_audio))
        if first == VideoState.TRANSCRIBING:
            self._detect_ahead(row)
        self._faces_ahead = None  # found for keyframes of an earlier run, maybe not these
        for stage in STAGES[STAGES.index(first) :]:
            log.info("%s: stage %s of video %s", label, stage, video_id)
            self.catalog.set_stage(video_id, stage)
            self._report(label, stage, 0.0)
            try:
                self._run_stage(stage, row, label)
            except HeimdexError as exc:
                return self._fail(row, label, stage, str(exc), duplicate)
            except Exception as exc:  # a bug or a library failure: record it, keep the batch going
                log.exception("%s failed in %s", label, stage)
                return self._fail(row, label, stage, f"{type(exc).__name__}: {exc}", duplicate)
            if stage == VideoState.KEYFRAMES:
                self._find_faces_ahead(row)
        self._report(label, VideoState.READY, 1.0)
        return self._result(self.store.videos.get(video_id), label, duplicate=duplicate)

    # Stages ---------------------------------------------------------------------------------

    def _run_stage(self, stage: VideoState, row: VideoRow, label: str) -> None:
        step: Callable[[VideoRow, Callable[[float], None]], StageOutput]
        step = getattr(self, _STEPS[stage])
        out = step(row, self._progress_writer(row.id, label, stage))
        at = STAGES.index(stage)
        following = STAGES[at + 1] if at + 1 < len(STAGES) else VideoState.READY
        self.catalog.commit_stage(row.id, stage, following, out.write, models=out.models,
                                  **out.video)  # fmt: skip

    def _transcribe(self, row: VideoRow, on_progress: Callable[[float], None]) -> StageOutput:
        path = self.media.path(row.media_name or "")
        heard = (
            transcribe_file(path, row.duration_s or 0.0, self.settings, on_progress)
            if row.has_audio
            else Transcript([], None, None, "")
        )
        return StageOutput(
            lambda s: self.catalog.replace_segments(s, row.id, heard.segments),
            models={"speech": heard.model or None},
            video={"language": heard.language, "language_probability": heard.language_probability},
        )

    def _detect_ahead(self, row: VideoRow) -> None:
        """Start scene detection (video only) while transcription (audio only) runs.

        Whisper's decoder leaves a core partly idle; detection fills it. Nothing is stored
        here: the detecting_scenes stage takes the result and commits it as usual.
        """
        path = self.media.path(row.media_name or "")
        self._ahead = (row.id, _executor().submit(detect_scenes, path, self.settings, None))

    def _detect_scenes(self, row: VideoRow, on_progress: Callable[[float], None]) -> StageOutput:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == row.id:
            spans = ahead[1].result()  # a failure there raises here, in this stage
            on_progress(1.0)
        else:
            spans = detect_scenes(self.media.path(row.media_name or ""), self.settings, on_progress)
        words = scene_text.all_words(self.catalog.segments(row.id))
        scenes = [
            Scene(
                scene_id=f"{row.id}:{no}",
                video_id=row.id,
                no=no,
                start=round(span.start, 4),
                end=round(span.end, 4),
                text=scene_text.join_words(scene_text.words_in(words, span)),
            )
            for no, span in enumerate(spans)
        ]
        return StageOutput(
            lambda s: self.store.scenes.replace(s, row.id, scenes),
            models={
                "detector": self.settings.scene_detector,
                "max_scene_s": self.settings.max_scene_s,
            },
        )

    def _keyframes(self, row: VideoRow, on_progress: Callable[[float], None]) -> StageOutput:
        share = _PROXY_SHARE if self._proxy_wanted(row) else 0.0
        if share:
            self._write_proxy(row, lambda f: on_progress(f * share))
        out_dir = self.media.keyframe_dir(row.id)
        shutil.rmtree(out_dir, ignore_errors=True)  # partial files of an interrupted run
        keyframes = extract_keyframes(
            self.media.path(row.media_name or ""),
            self.store.scenes.of_video(row.id),
            out_dir,
            self.settings.library,
            self.settings,
            lambda f: on_progress(share + f * (1.0 - share)),
        )
        return StageOutput(lambda s: self.catalog.set_keyframes(s, keyframes))

    def _proxy_wanted(self, row: VideoRow) -> bool:
        """True when the player needs a browser-playable copy of this video's stored file and
        it has none yet (another video of the same bytes may have made it already)."""
        name = row.media_name or ""
        return self.media.proxy_path(name) is None and needs_proxy(self.media.path(name))

    def _write_proxy(
        self, row: VideoRow, on_progress: Callable[[float], None] | None = None
    ) -> Path:
        """Transcode the stored file to a browser-playable copy beside it (for the player,
        docs/architecture.md §12).

        Written under its final name only when complete, so a crash leaves either no proxy (the
        stage runs again) or a whole one; a leftover temp file is an orphan for `heimdex check`.
        """
        name = row.media_name or ""
        target = self.media.proxy_target(name, proxy_format().ext)
        make_proxy(self.media.path(name), target, on_progress)
        return target

    def _read_screen_text(self, row: VideoRow, on_progress: Callable[[float], None]) -> StageOutput:
        lines = self.read_screen_text(self.store.scenes.of_video(row.id), on_progress)
        texts = scene_screen_text(lines)
        return StageOutput(
            lambda s: self.store.scenes.replace_screen_lines(s, row.id, lines, texts),
            models={"ocr": OcrEngine.name if self.settings.ocr else None,
                    "ocr_lines": len(lines)},
        )  # fmt: skip

    def read_screen_text(
        self, scenes: list[Scene], on_progress: Callable[[float], None] | None = None
    ) -> list[ScreenLine]:
        """The text lines shown in the scenes' keyframes (none when OCR is off)."""
        if not self.settings.ocr:
            return []
        engine = ocr_engine(self.settings.cpu_threads)  # ModelUnavailable names the package
        return read_screen_text(scenes, self.settings.library, engine, self.settings, on_progress)

    def _embed(self, row: VideoRow, on_progress: Callable[[float], None]) -> StageOutput:
        scenes = self.store.scenes.of_video(row.id)
        models = {"text": self.settings.text_model}
        self.embed_text(row.id, scenes)
        self.embed_screen_text(row.id, scenes)
        on_progress(0.5)
        vision = self.embed_images(row.id, scenes)
        if vision:
            models["image"] = self.settings.models_used()["image"]
        return StageOutput(lambda s: None, models=models, video={"vision": vision})

    def _find_faces_ahead(self, row: VideoRow) -> None:
        """Start finding faces in the stored keyframes while on-screen text and embedding run.

        dlib's detector leaves the Python lock while it works, so it takes the core that the
        OCR and text models leave idle. Nothing is stored here: the faces stage takes the
        result and stores crops, vectors and rows as usual.
        """
        scenes = self.store.scenes.of_video(row.id)
        self._faces_ahead = (row.id, _executor().submit(self._detect_faces, scenes, None))

    def _faces(self, row: VideoRow, on_progress: Callable[[float], None]) -> StageOutput:
        out_dir = self.settings.library / "faces" / row.id
        shutil.rmtree(out_dir, ignore_errors=True)  # crops of an interrupted run
        ahead, self._faces_ahead = self._faces_ahead, None
        if ahead is not None and ahead[0] == row.id:
            detected = ahead[1].result()  # a failure there raises here, in this stage
            on_progress(1.0)
        else:
            detected = self._detect_faces(self.store.scenes.of_video(row.id), on_progress)
        rows = self._store_faces(row.id, detected)
        return StageOutput(
            lambda s: self.catalog.replace_faces(s, row.id, rows),
            models={"faces": self.settings.face_backend, "faces_found": len(rows)},
        )

    def find_faces(
        self, video_id: str, scenes: list[Scene], on_progress: Callable[[float], None] | None = None
    ) -> list[FaceRow]:
        """Faces of the scenes' keyframes: crops saved, vectors stored, people matched."""
        return self._store_faces(video_id, self._detect_faces(scenes, on_progress))

    def _detect_faces(
        self, scenes: list[Scene], on_progress: Callable[[float], None] | None = None
    ) -> _FacesFound | None:
        """The faces in the scenes' keyframes (nothing stored); None without a face model."""
        from heimdex_lab.embed.face import face_backend
        from heimdex_lab.ingest.faces import find_faces

        try:
            backend = face_backend(self.settings)
        except ModelUnavailable as exc:
            if not self._faces_warned:
                self._faces_warned = True
                log.warning("face search is off: %s", exc)
            return None
        found = find_faces(scenes, self.settings.library, backend, self.settings, on_progress)
        return _FacesFound(backend, found)

    def _store_faces(self, video_id: str, detected: _FacesFound | None) -> list[FaceRow]:
        """Save the crops, store the vectors and match people: the faces' catalog rows."""
        from heimdex_lab.people import People

        if detected is None:
            return []
        backend, found = detected.backend, detected.found
        out_dir = self.settings.library / "faces" / video_id
        out_dir.mkdir(parents=True, exist_ok=True)
        vectors = np.asarray([f.vector for f in found], dtype=np.float32).reshape(-1, backend.dim)
        self._vectors().replace_video(
            FACES, backend.name, video_id, [f.face_id for f in found], vectors,
            [self._meta_face(video_id, f.scene_id, f.t) for f in found], dim=backend.dim,
        )  # fmt: skip
        people = People(self.settings, self.catalog, self._vectors)
        rows = []
        for face, (person_id, score) in zip(found, people.match(vectors), strict=True):
            target = out_dir / f"{face.face_id.replace(':', '_')}.jpg"
            face.crop.save(target, "JPEG", quality=85)
            box = face.box
            rows.append(FaceRow(
                id=face.face_id, scene_id=face.scene_id, video_id=video_id, owner=self.owner,
                t=face.t, box=[box.left, box.top, box.width, box.height],
                crop=target.relative_to(self.settings.library).as_posix(),
                person_id=person_id, score=score,
            ))  # fmt: skip
        return rows

    def _meta_face(self, video_id: str, scene_id: str, t: float) -> dict[str, object]:
        return {"scene_id": scene_id, "video_id": video_id, "owner": self.owner, "t": t}

    # Embedding (also used by reindex) -------------------------------------------------------

    def embed_text(self, video_id: str, scenes: list[Scene]) -> int:
        """One vector per sentence of scene text, embedded with its `text_window` neighbours on
        each side; returns how many were stored."""
        radius = self.settings.text_window
        return self._embed_pieces(
            SCENE_TEXT, video_id, scenes,
            lambda s: scene_text.sentence_windows(s.text, radius), "sentence",
        )  # fmt: skip

    def embed_screen_text(self, video_id: str, scenes: list[Scene]) -> int:
        """One vector per distinct on-screen line of each scene (the text model's), so screen
        text is found by meaning as well as by its words; returns how many were stored."""
        return self._embed_pieces(SCENE_SCREEN, video_id, scenes, _screen_lines, "line")

    def _embed_pieces(
        self,
        kind: str,
        video_id: str,
        scenes: list[Scene],
        pieces: Callable[[Scene], list[str]],
        label: str,
    ) -> int:
        """Embed each scene's pieces of text with the text model under ``{scene_id}:{k}``."""
        from heimdex_lab.embed.text import text_embedder

        embedder = text_embedder(self.settings.text_model, self.settings.embed_batch_size)
        ids, texts, metas = [], [], []
        for scene in scenes:
            for k, piece in enumerate(pieces(scene)):
                ids.append(f"{scene.scene_id}:{k}")
                texts.append(piece)
                metas.append(self._meta(scene, **{label: k}))
        vectors = embedder.embed(texts)
        self._vectors().replace_video(
            kind, embedder.name, video_id, ids, vectors, metas, dim=embedder.dim
        )
        return len(ids)

    def embed_images(self, video_id: str, scenes: list[Scene]) -> bool:
        """CLIP vectors for every keyframe; False (vision off for this video) without a model."""
        from PIL import Image

        model = self.image_model()
        if model is None:
            return False
        from heimdex_lab.embed.image import ImageEmbedder

        assert isinstance(model, ImageEmbedder)
        ids, metas, files = [], [], []
        for scene in scenes:
            for k, rel in enumerate(scene.keyframes):
                ids.append(f"{scene.scene_id}:{k}")
                metas.append(self._meta(scene, keyframe=rel))
                files.append(self.settings.library / rel)
        # Decoded a batch at a time: a 3-hour video has thousands of keyframes (0.7 MB each
        # decoded), and holding them all made this stage's memory grow with the video's length.
        batch = max(1, self.settings.embed_batch_size)
        parts = []
        for start in range(0, len(files), batch):
            images = []
            for path in files[start : start + batch]:
                with Image.open(path) as im:
                    images.append(im.convert("RGB"))
            parts.append(model.embed_images(images))
        vectors = np.concatenate(parts) if parts else np.zeros((0, model.dim), np.float32)
        self._vectors().replace_video(
            SCENE_IMAGE, model.collection_model, video_id, ids, vectors, metas, dim=model.dim
        )
        return True

    def _warm_up(self, speech: bool = False) -> None:
        """Load the models of the stages ahead in the background while the first stages run.

        The speech model (``speech``: there is audio to transcribe) loads while the first audio
        window is decoded; the text, OCR and face models and the Chroma client (its import is
        most of its cost) while transcription runs in native code. The loaders are locked, so a
        stage waits for this load instead of starting a second one; a load error surfaces
        there, not here.
        """
        if self._warmed:
            return
        self._warmed = True

        def load() -> None:
            from heimdex_lab.embed.face import face_backend
            from heimdex_lab.embed.text import text_embedder
            from heimdex_lab.ingest.transcript import first_model, whisper_model

            s = self.settings
            if speech:  # in stage order: speech is needed first
                with contextlib.suppress(Exception):
                    whisper_model(first_model(s), s.whisper_compute_type, s.cpu_threads)
            with contextlib.suppress(Exception):
                text_embedder(s.text_model, s.embed_batch_size)
            if s.ocr:
                with contextlib.suppress(Exception):
                    ocr_engine(s.cpu_threads)
            with contextlib.suppress(Exception):
                face_backend(s)
            with contextlib.suppress(Exception):
                self.image_model()
            with contextlib.suppress(Exception):
                self._vectors().client  # noqa: B018  (opens Chroma: ~0.5 s of imports)

        threading.Thread(target=load, name="heimdex-warm-up", daemon=True).start()

    def image_model(self) -> object | None:
        """The image model, or None with ONE warning per pipeline when it is not available."""
        with self._image_lock:
            return self._check_image_model()

    def _check_image_model(self) -> object | None:
        if not self._image_checked:
            self._image_checked = True
            from heimdex_lab.embed.image import image_embedder

            try:
                self._image_model = image_embedder(self.settings)
            except ModelUnavailable as exc:
                log.warning(
                    "visual search is off: %s. Keyframes are kept; run "
                    "`heimdex reindex --stage image` once the model is available.",
                    exc,
                )
        return self._image_model

    def _meta(self, scene: Scene, **extra: object) -> dict[str, object]:
        return {
            "scene_id": scene.scene_id,
            "video_id": scene.video_id,
            "owner": self.owner,
            "start": scene.start,
            "end": scene.end,
            **extra,
        }

    # Reporting ------------------------------------------------------------------------------

    def _progress_writer(self, video_id: str, label: str, stage: str) -> Callable[[float], None]:
        last_write = [0.0]

        def on_progress(fraction: float) -> None:
            self._report(label, stage, fraction)
            now = time.monotonic()
            if now - last_write[0] >= _PROGRESS_WRITE_S:
                last_write[0] = now
                self.catalog.set_progress(video_id, stage, fraction)

        return on_progress

    def _report(self, label: str, stage: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(label, stage, fraction)

    def _fail(
        self, row: VideoRow, label: str, stage: str, reason: str, duplicate: bool
    ) -> IngestResult:
        self.catalog.set_failed(row.id, stage, reason)
        log.error("%s failed in stage %s: %s", label, stage, reason)
        return self._result(self.store.videos.get(row.id), label, duplicate=duplicate)

    def _result(
        self, row: VideoRow, file: str, duplicate: bool = False, error: str | None = None
    ) -> IngestResult:
        scenes = len(self.store.scenes.of_video(row.id)) if row.state == VideoState.READY else 0
        if error is None and row.error:
            error = (
                f"{file}: {row.stage}: {row.error}" if row.state == VideoState.FAILED else row.error
            )
        return IngestResult(
            file=file,
            video_id=row.id,
            state=row.state,
            stage=row.stage,
            duration_s=row.duration_s,
            scenes=scenes,
            duplicate=duplicate,
            error=error,
        )
