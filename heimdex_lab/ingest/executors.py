"""Where ingestion runs: this process ("local") or a Ray task per video ("ray"; architecture §9).

Either way each file goes through the same ``Pipeline.ingest`` (stages, state, progress rows in
the catalog's jobs table); an executor only decides where that call happens. Results come back
one per input path, in input order, and a bad file or a failing task never stops the others.

The Ray executor starts a local instance (one CPU per task, all cores) unless Ray is already
initialised or given an address (``auto``, ``ray://host:10001``, or ``$RAY_ADDRESS``). On one
machine the workers share the library directory: the SQLite catalog (WAL) and the embedded Chroma
store (file lock + reload) both take several writing processes. On a real cluster every node
must see the input files and the library directory at the same paths, and the catalog and the
vectors must be shared services: ``HEIMDEX_DATABASE_URL=postgresql+psycopg://…`` and a Chroma
server (``HEIMDEX_CHROMA_URL``); an SQLite file or an embedded Chroma directory on a network
share is not safe across machines.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from heimdex_lab.config import Settings
from heimdex_lab.errors import UsageError
from heimdex_lab.extras import needs
from heimdex_lab.types import IngestResult, VideoState

if TYPE_CHECKING:
    from heimdex_lab.ingest.pipeline import Pipeline

log = logging.getLogger(__name__)

# How often the driver reads the workers' progress from the catalog while it waits.
_POLL_S = 1.0
# A task whose worker process died (out of memory, a crash in native code, a lost node) runs
# once more: the pipeline resumes at the first unfinished stage. A file that kills its worker
# every time then costs two attempts, not Ray's default four.
_RETRIES_AFTER_CRASH = 1
# Passed on to the workers, so they are as offline and quiet as this process (heimdex_lab sets
# these on import) whatever the environment of the Ray node is.
_WORKER_ENV_PREFIXES = ("HEIMDEX_", "HF_", "TRANSFORMERS_")
_WORKER_ENV_KEYS = (
    "ORT_DISABLE_TELEMETRY",
    "MLFLOW_DISABLE_TELEMETRY",
    "ANONYMIZED_TELEMETRY",
    "TOKENIZERS_PARALLELISM",
)


class IngestExecutor(ABC):
    """Runs ``Pipeline.ingest`` for a batch of files; one result per path, in input order."""

    name: ClassVar[str]

    @abstractmethod
    def ingest(self, pipeline: Pipeline, paths: Sequence[Path]) -> list[IngestResult]:
        """Ingest ``paths`` into the pipeline's library, reporting to ``pipeline.progress``."""


class LocalExecutor(IngestExecutor):
    """One file after another in this process."""

    name = "local"

    def ingest(self, pipeline: Pipeline, paths: Sequence[Path]) -> list[IngestResult]:
        return [pipeline.ingest(path) for path in paths]


class RayExecutor(IngestExecutor):
    """One Ray task per file, each running the whole pipeline in a Ray worker process.

    Models load once per worker process (the package caches them per process) and a worker
    keeps its library open between tasks. ``address``: a running cluster (``auto``,
    ``ray://host:10001``); None starts a local instance with ``num_cpus`` CPUs (default: all
    cores) unless Ray is initialised already, in which case that instance is used as it is.
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus

    def ingest(self, pipeline: Pipeline, paths: Sequence[Path]) -> list[IngestResult]:
        if not paths:
            return []
        init_ray(self.address, self.num_cpus)
        ray = _ray()
        task = _remote_ingest().options(
            num_cpus=1,
            max_retries=_RETRIES_AFTER_CRASH,
            runtime_env={"env_vars": _worker_env()},
        )
        settings_json = _portable_settings(pipeline.settings)
        refs: list[Any] = []
        last_of: dict[str, Any] = {}
        for path in paths:
            where = os.path.abspath(path)  # workers need not share this process's directory
            # The same file twice: the second task waits for the first, then finds a duplicate
            # (as the local executor does) instead of racing it through the same stages.
            ref = task.remote(settings_json, where, str(path), last_of.get(where))
            last_of[where] = ref
            refs.append(ref)

        results: list[IngestResult | None] = [None] * len(refs)
        pending = {ref: i for i, ref in enumerate(refs)}
        watcher = _ProgressWatcher(pipeline, paths) if pipeline.progress else None
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_S)
            for ref in done:
                i = pending.pop(ref)
                results[i] = _collect(ray, ref, pipeline, paths[i])
                if watcher is not None:
                    watcher.finished(paths[i], results[i])
            if watcher is not None:
                watcher.poll()
        return [r for r in results if r is not None]


EXECUTORS: dict[str, type[IngestExecutor]] = {
    LocalExecutor.name: LocalExecutor,
    RayExecutor.name: RayExecutor,
}


def ingest_executor(name: str, address: str | None = None) -> IngestExecutor:
    """The executor called ``name`` (UsageError for an unknown name, listing the others)."""
    if name not in EXECUTORS:
        raise UsageError(f"unknown executor {name!r} (available: {', '.join(EXECUTORS)})")
    if name == RayExecutor.name:
        return RayExecutor(address)
    if address is not None:
        raise UsageError(f"a Ray address is only used by --executor ray, not {name!r}")
    return EXECUTORS[name]()


# Ray: set-up ----------------------------------------------------------------------------------

_started_here = False


def _ray() -> Any:
    with needs("scale", "heimdex ingest --executor ray"):
        import ray
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to ``address`` or start a local Ray instance, unless Ray is initialised already.

    Returns True when this call started or connected to Ray. A local instance gets ``num_cpus``
    (default: all cores), no dashboard, and stays on 127.0.0.1.
    """
    global _started_here
    local = address in (None, "local") and not os.environ.get("RAY_ADDRESS")
    with _ray_start_env(local):
        ray = _ray()
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"include_dashboard": False}
        if local:
            options["num_cpus"] = num_cpus or os.cpu_count() or 1
        try:
            ray.init(address=address, **options)
        except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
            where = address or os.environ.get("RAY_ADDRESS") or "a local instance"
            raise UsageError(f"cannot start or reach Ray at {where}: {exc}") from exc
    _started_here = local
    log.info("Ray ready: %s", ray.cluster_resources())
    return True


@contextlib.contextmanager
def _ray_start_env(local: bool) -> Iterator[None]:
    """The environment Ray's own processes are started with; this process's is restored after.

    At every start Ray probes the cloud metadata address (169.254.169.254, metadata.google.
    internal) unless ``$HOME/ray_bootstrap_config.yaml`` exists, so Ray's processes get a HOME
    holding one; the workers get the real HOME back through their runtime env. A local
    instance also stays on the loopback address and sends no usage statistics.
    """
    home = _ray_home()
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "ray_bootstrap_config.yaml").write_text("{}\n")
    values = {"HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0"}
    if local:
        values["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is first imported
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _ray_home() -> Path:
    return Path(tempfile.gettempdir()) / f"heimdex-ray-{os.getuid()}"


def _worker_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith(_WORKER_ENV_PREFIXES) or k in _WORKER_ENV_KEYS
    }
    if _started_here and "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]  # model caches live there, not in Ray's stand-in HOME
        # ... but the token a local instance authenticates its processes with lives there.
        env.setdefault("RAY_AUTH_TOKEN_PATH", str(_ray_home() / ".ray" / "auth_token"))
    return env


def _portable_settings(settings: Settings) -> str:
    """Settings as JSON with absolute paths: a worker's working directory is not ours."""
    values = {
        key: value.absolute() if isinstance(value, Path) else value
        for key, value in settings.model_dump().items()
    }
    return json.dumps(values, default=str, sort_keys=True)


@functools.cache
def _remote_ingest() -> Any:
    return _ray().remote(ingest_in_worker)


# Ray: the task --------------------------------------------------------------------------------


def ingest_in_worker(
    settings_json: str, path: str, file: str, after: object = None
) -> IngestResult:
    """The body of one Ray task: ingest ``path`` (shown as ``file``) with these settings.

    ``after`` is the result of an earlier task on the same file: Ray starts this one only
    once that is done. Stdout carries the CLI's JSON, so anything printed goes to stderr.
    """
    with contextlib.redirect_stdout(sys.stderr):
        return _worker_pipeline(settings_json).ingest(Path(path), display_name=file)


@functools.lru_cache(maxsize=4)
def _worker_pipeline(settings_json: str) -> Pipeline:
    """A pipeline per library and user, kept for the worker's next tasks."""
    from heimdex_lab.ingest.pipeline import Pipeline
    from heimdex_lab.library import Library

    library = Library(Settings(**json.loads(settings_json)))
    return Pipeline(library.settings, library.catalog, lambda: library.vectors, library.media)


# Ray: results and progress --------------------------------------------------------------------


def _collect(ray: Any, ref: Any, pipeline: Pipeline, path: Path) -> IngestResult:
    """A task's result; a task that raised or lost its worker becomes a failed row."""
    file = str(path)
    try:
        result: IngestResult = ray.get(ref)
        return result
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if exc.cause is not None else exc
        reason = f"the Ray task raised {type(cause).__name__}: {cause}"
    except ray.exceptions.RayError as exc:
        reason = f"the Ray worker was lost ({type(exc).__name__}); `heimdex ingest --resume`"
        reason += " finishes what it had started"
    log.error("%s: %s", file, reason)
    return _failed(pipeline, path, reason)


def _failed(pipeline: Pipeline, path: Path, reason: str) -> IngestResult:
    """A failed row for ``path``; its video (if it got that far) is marked failed too."""
    from heimdex_lab.store.media import sha256_file

    file = str(path)
    row = None
    with contextlib.suppress(OSError, ValueError):  # unreadable here, or never accepted
        row = pipeline.store.videos.find_by_sha(sha256_file(path))
    if row is None or row.state in (VideoState.READY, VideoState.REJECTED):
        return IngestResult(
            file, None, VideoState.FAILED, None, None, 0, False, f"{file}: {reason}"
        )
    stage = row.stage or row.state
    pipeline.catalog.set_failed(row.id, stage, reason)
    return IngestResult(
        file,
        row.id,
        VideoState.FAILED,
        stage,
        row.duration_s,
        0,
        False,
        f"{file}: {stage}: {reason}",
    )


class _ProgressWatcher:
    """Feeds the driver's progress callback from the progress rows the workers write."""

    def __init__(self, pipeline: Pipeline, paths: Sequence[Path]) -> None:
        from heimdex_lab.ingest.pipeline import _name

        self.pipeline = pipeline
        names: dict[str, list[str]] = {}
        for path in paths:
            names.setdefault(_name(path, None), []).append(str(path))
        # A stored file name identifies an input only when one input has it.
        self.labels = {name: files[0] for name, files in names.items() if len(files) == 1}
        self.open = set(self.labels.values())

    def poll(self) -> None:
        from heimdex_lab.ingest.pipeline import STAGES

        videos = self.pipeline.store.videos
        fractions = videos.progress()
        for row in videos.unfinished():
            label = self.labels.get(row.filename)
            if label in self.open and row.state in STAGES:
                self._report(label, row.state, fractions.get(row.id, 0.0))

    def finished(self, path: Path, result: IngestResult | None) -> None:
        self.open.discard(str(path))
        if result is not None and result.state == VideoState.READY:
            self._report(str(path), VideoState.READY, 1.0)

    def _report(self, label: str, stage: str, fraction: float) -> None:
        assert self.pipeline.progress is not None
        self.pipeline.progress(label, stage, fraction)
