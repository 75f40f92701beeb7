"""Background ingestion of uploads: one worker thread per library, never the request thread.

The app (FileDropper bytes) and the HTTP API (a multipart body streamed to disk) both hand their
files to the same worker, so uploads from either are ingested one at a time, in order.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.errors import InvalidVideo
from heimdex_lab.ingest.pipeline import video_id_for

log = logging.getLogger(__name__)
_counter = itertools.count(1)

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
    path: Path | None = field(default=None, repr=False)

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
        self.uploads: list[Upload] = []
        self.stage_observers: list[StageObserver] = []
        self._queue: queue.Queue[Upload] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="heimdex-ingest", daemon=True)
        self._thread.start()

    @property
    def upload_dir(self) -> Path:
        folder = self.settings.library / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

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
        upload = self._track(Upload(next(_counter), user, filename, 0, video_id=video_id))
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
        upload.path = path
        upload.video_id = video_id_for(upload.user, sha256)
        self._queue.put(upload)
        return upload

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

    def _run(self) -> None:
        from heimdex_lab.library import Library

        while True:
            upload = self._queue.get()
            clock = _StageClock(self._observe)

            def progress(_label: str, stage: str, fraction: float, u: Upload = upload,
                         clock: _StageClock = clock) -> None:  # fmt: skip
                clock.at(stage)
                u.stage, u.progress = stage, fraction

            try:
                upload.state = "ingesting"
                lib = Library(self.settings.model_copy(update={"user": upload.user}))
                if upload.path is None:  # a retry: the media is in the library already
                    assert upload.video_id is not None
                    result = lib.retry(upload.video_id, progress)
                else:
                    result = lib.ingest_upload(
                        upload.path, upload.filename, progress, upload.video_id
                    )
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
                if upload.path is not None:
                    upload.path.unlink(missing_ok=True)
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
