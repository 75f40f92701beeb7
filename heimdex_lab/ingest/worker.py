"""Background ingestion of uploads: one worker thread per library, never the request thread.

The app (FileDropper bytes) and the HTTP API (a multipart body streamed to disk) both hand their
files to the same worker, so uploads from either are ingested one at a time, in order.

Work survives a restart: a received upload is a ``queued`` row in the catalog before it is
acknowledged, and a video is claimed (ingest/lease.py) while a stage of it runs. On start, and
whenever it is idle, the worker takes every queued or interrupted video of every user, oldest
first; a file left by an upload that never finished streaming is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.errors import InvalidVideo
from heimdex_lab.ingest import lease
from heimdex_lab.ingest.pipeline import video_id_for
from heimdex_lab.store.catalog import Catalog
from heimdex_lab.store.media import upload_dir
from heimdex_lab.types import VideoState

log = logging.getLogger(__name__)
_counter = itertools.count(1)
_INGEST_NICE = 10

# (stage, seconds it took): the server's metrics listen to finished stages.
StageObserver = Callable[[str, float], None]


@dataclass
class Upload:
    """One uploaded file on its way into the library (shown in the Upload tab)."""

    upload_id: int
    user: str
    filename: str
    size: int
    state: str = "queued"  # queued → ingesting → the video's final state
    stage: str = ""
    progress: float = 0.0
    video_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "video_id": self.video_id,
            "filename": self.filename,
            "state": self.state,
            "stage": self.stage,
            "progress": round(self.progress, 3),
            "error": self.error,
        }


class IngestWorker:
    """Takes uploads, stores them under ``<library>/uploads`` and ingests them one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalog = Catalog(settings.catalog_url)
        self.uploads: list[Upload] = []
        self.stage_observers: list[StageObserver] = []
        self._queue: queue.Queue[Upload] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting: set[str] = set()  # video ids in the queue or being ingested here
        self._thread = threading.Thread(target=self._run, name="heimdex-ingest", daemon=True)
        self._thread.start()

    @property
    def upload_dir(self) -> Path:
        return upload_dir(self.settings.library)

    def new_upload_path(self) -> Path:
        """Where an incoming file is written: a name of ours, never the user's."""
        return self.upload_dir / f"{uuid.uuid4().hex}.upload"

    def submit(self, user: str, filename: str, data: bytes) -> Upload:
        """Queue one file received in memory (the app's FileDropper); checks size first."""
        upload = self._track(Upload(next(_counter), user, filename, len(data)))
        if reason := self._size_problem(filename, len(data)):
            upload.state, upload.error = "rejected", reason
            return upload
        path = self.new_upload_path()
        path.write_bytes(data)
        return self._enqueue(upload, path, hashlib.sha256(data).hexdigest())

    def submit_file(self, user: str, filename: str, path: Path, sha256: str) -> Upload:
        """Queue a file already written to ``new_upload_path()`` (the HTTP API's stream)."""
        size = path.stat().st_size
        upload = self._track(Upload(next(_counter), user, filename, size))
        if reason := self._size_problem(filename, size):
            path.unlink(missing_ok=True)
            upload.state, upload.error = "rejected", reason
            return upload
        return self._enqueue(upload, path, sha256)

    def record_refused(self, user: str, filename: str, size: int, error: str) -> Upload:
        """A file refused before it reached the server's disk (in the browser or at the door),
        listed with the user's other uploads so the reason shows in the same place."""
        upload = self._track(Upload(next(_counter), user, filename, size))
        upload.state, upload.error = "rejected", error
        return upload

    def submit_retry(self, user: str, video_id: str, filename: str) -> Upload:
        """Queue another run of a failed or interrupted video, from its first unfinished stage."""
        return self._queue_video(self._track(Upload(next(_counter), user, filename, 0,
                                                    video_id=video_id)))  # fmt: skip

    def _queue_video(self, upload: Upload) -> Upload:
        """Queue a video that is in the catalog already (queued, interrupted or failed)."""
        assert upload.video_id is not None
        with self._lock:
            self._waiting.add(upload.video_id)
        self._queue.put(upload)
        return upload

    def _size_problem(self, filename: str, size: int) -> str | None:
        limit = self.settings.max_upload_bytes
        if size > limit:
            return f"{filename}: file is {size:,} bytes, over the limit of {limit:,} bytes"
        if size == 0:
            return f"{filename}: empty file (0 bytes)"
        return None

    def _track(self, upload: Upload) -> Upload:
        with self._lock:
            self.uploads.append(upload)
        return upload

    def _enqueue(self, upload: Upload, path: Path, sha256: str) -> Upload:
        """Record the received file as a queued video (so a restart still ingests it), then
        queue it. Bytes the user has already: that video is resumed or returned as it is."""
        video_id = upload.video_id = video_id_for(upload.user, sha256)
        videos = self.catalog.for_owner(upload.user).videos
        while not videos.add_queued(video_id, upload.filename, path.name):
            existing = self.catalog.video_by_id(video_id)
            if existing is not None and existing.state == VideoState.REJECTED:
                self.catalog.delete_video(video_id)  # the same bytes again: validate afresh
                continue
            path.unlink(missing_ok=True)  # stored already (or queued by another upload)
            break
        return self._queue_video(upload)

    def of(self, user: str) -> list[Upload]:
        with self._lock:
            return [u for u in self.uploads if u.user == user]

    def pending(self, user: str, video_id: str) -> Upload | None:
        """The user's upload of ``video_id`` that is still queued or being ingested."""
        for upload in reversed(self.of(user)):
            if upload.video_id == video_id and upload.state in ("queued", "ingesting"):
                return upload
        return None

    def queue_length(self) -> int:
        """Uploads waiting or being ingested."""
        return self._queue.unfinished_tasks

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def _observe(self, stage: str, seconds: float) -> None:
        for observer in self.stage_observers:
            observer(stage, seconds)

    def recover(self) -> int:
        """Queue every user's queued or interrupted video that no live process works on, oldest
        first, and remove upload files nobody will ingest; returns how many were queued."""
        self._remove_stale_uploads()
        found = 0
        for row in self.catalog.resumable():
            with self._lock:
                if row.id in self._waiting:
                    continue
            if lease.is_live(row):
                continue  # another worker has it; taken over if its lease lapses
            log.info("resuming %s video %s (%s) of user %s", row.state, row.id, row.filename,
                     row.owner)  # fmt: skip
            upload = Upload(next(_counter), row.owner, row.filename, 0, video_id=row.id)
            self._queue_video(self._track(upload))
            found += 1
        return found

    def _remove_stale_uploads(self) -> None:
        """Files of uploads that never finished streaming (the server died mid-body): no row
        names them and nothing has written to them for a lease's time."""
        needed = self.catalog.upload_names()
        cutoff = time.time() - self.settings.lease_s
        for path in self.upload_dir.iterdir():
            try:
                if path.name not in needed and path.stat().st_mtime < cutoff:
                    log.info("removing %s: an upload that did not finish", path.name)
                    path.unlink()
            except FileNotFoundError:
                pass  # another worker removed it first

    def _next(self) -> Upload:
        """The next item; while idle, look for interrupted work every lease period."""
        while True:
            try:
                return self._queue.get(timeout=self.settings.lease_s)
            except queue.Empty:
                try:
                    self.recover()
                except Exception:  # the catalog may be briefly unreachable: look again later
                    log.exception("could not look for interrupted ingests")

    def _run(self) -> None:
        from heimdex_lab.library import Library

        # Ingest yields the cores to requests: on Linux a thread has its own nice value, and the
        # threads it starts (Whisper's, scene detection's, the model warm-up) inherit it. Pages
        # and searches stay quick while a restarted server works through interrupted videos.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _INGEST_NICE)
        try:
            self.recover()
        except Exception:
            log.exception("could not look for interrupted ingests")
        while True:
            upload = self._next()
            clock = _StageClock(self._observe)

            def progress(_label: str, stage: str, fraction: float, u: Upload = upload,
                         clock: _StageClock = clock) -> None:  # fmt: skip
                clock.at(stage)
                u.stage, u.progress = stage, fraction

            try:
                upload.state = "ingesting"
                lib = Library(self.settings.model_copy(update={"user": upload.user}))
                assert upload.video_id is not None
                result = lib.resume_video(upload.video_id, progress, wait=False)
                clock.at("")
                upload.video_id, upload.state = result.video_id, result.state
                upload.stage, upload.error = result.stage or "", result.error
                upload.progress = 1.0
                lib.close()
            except InvalidVideo as exc:
                upload.state, upload.error = "rejected", str(exc)
            except Exception as exc:  # keep the worker alive for the next upload
                log.exception("ingest of upload %s failed", upload.filename)
                upload.state, upload.error = "failed", f"{upload.filename}: {exc}"
            finally:
                with self._lock:
                    self._waiting.discard(upload.video_id or "")
                self._queue.task_done()


class _StageClock:
    """Times each stage from the first progress report of it to the first of the next one."""

    def __init__(self, observe: StageObserver) -> None:
        self.observe = observe
        self.stage = ""
        self.since = time.monotonic()

    def at(self, stage: str) -> None:
        """Progress is now in ``stage`` ("" when the run ended)."""
        if stage == self.stage:
            return
        now = time.monotonic()
        if self.stage:
            self.observe(self.stage, now - self.since)
        self.stage, self.since = stage, now


_workers: dict[Path, IngestWorker] = {}
_workers_lock = threading.Lock()


def worker_for(settings: Settings) -> IngestWorker:
    """The process's worker for this library (created on first use)."""
    key = settings.library.resolve()
    with _workers_lock:
        if key not in _workers:
            _workers[key] = IngestWorker(settings)
        return _workers[key]
