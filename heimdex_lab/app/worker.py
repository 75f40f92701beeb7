"""Background ingestion of uploads: one worker thread per library, never the request thread."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.errors import InvalidVideo

log = logging.getLogger(__name__)
_counter = itertools.count(1)


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


class IngestWorker:
    """Takes uploads, stores them under ``<library>/uploads`` and ingests them one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uploads: list[Upload] = []
        self._queue: queue.Queue[Upload] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="heimdex-ingest", daemon=True)
        self._thread.start()

    def submit(self, user: str, filename: str, data: bytes) -> Upload:
        """Queue one uploaded file; an over-size file is rejected here, before it is written."""
        upload = Upload(next(_counter), user, filename, len(data))
        with self._lock:
            self.uploads.append(upload)
        if len(data) > self.settings.max_upload_bytes:
            upload.state = "rejected"
            upload.error = (
                f"{filename}: file is {len(data):,} bytes, over the limit of "
                f"{self.settings.max_upload_bytes:,} bytes"
            )
            return upload
        if not data:
            upload.state, upload.error = "rejected", f"{filename}: empty file (0 bytes)"
            return upload
        folder = self.settings.library / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        upload.path = folder / f"{uuid.uuid4().hex}.upload"  # the user's name is never a path
        upload.path.write_bytes(data)
        self._queue.put(upload)
        return upload

    def of(self, user: str) -> list[Upload]:
        with self._lock:
            return [u for u in self.uploads if u.user == user]

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def _run(self) -> None:
        from heimdex_lab.library import Library

        while True:
            upload = self._queue.get()
            try:
                upload.state = "ingesting"
                lib = Library(self.settings.model_copy(update={"user": upload.user}))

                def progress(_label: str, stage: str, fraction: float, u: Upload = upload) -> None:
                    u.stage, u.progress = stage, fraction

                assert upload.path is not None
                result = lib.ingest_upload(upload.path, upload.filename, progress)
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


_workers: dict[Path, IngestWorker] = {}
_workers_lock = threading.Lock()


def worker_for(settings: Settings) -> IngestWorker:
    """The process's worker for this library (created on first use)."""
    key = settings.library.resolve()
    with _workers_lock:
        if key not in _workers:
            _workers[key] = IngestWorker(settings)
        return _workers[key]
