"""Vector collections in Chroma: one collection per kind, model and dimension.

A model change therefore never mixes vectors of two models. Embeddings are always passed
explicitly: Chroma's default embedder would download a model.

Embedded Chroma is made for one process: another process's writes are invisible to a client
that has loaded an index (a long-lived server kept answering without a video a CLI ingest
had added), and two writers could each persist an index missing the other's vectors. So on a
library directory, writers take an exclusive file lock and, under it, first reload if another
process wrote, then write and replace a generation marker; readers reload when the marker
changed. A Chroma server (``url``) needs none of this.

A search from a new process must not wait for Chroma (importing it, opening its client and
loading an HNSW index take over a second), so a library directory also keeps an exact copy of
each collection it has searched, up to ``exact_max`` vectors (``exact_knn_max_vectors``): unit
vectors (``.npy``), ids and video ids (``.npz``) under ``vectors/exact/``, named by the
generation marker they were read at. A kNN query uses the copy of the current generation
(exact cosine over the matrix: a few milliseconds at 20k vectors), and the first query after a
write rebuilds it from Chroma under a shared lock, so no write can happen halfway through it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.util
import logging
import os
import re
import sys
import threading
import types
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SCENE_TEXT = "scene_text"
SCENE_IMAGE = "scene_image"
SCENE_SCREEN = "scene_screen"  # on-screen lines, embedded with the text model
FACES = "faces"
# Chroma rejects a very large single add; batches stay well under its limit.
_BATCH = 4096
_MARKER = "heimdex.generation"
_LOCK = "heimdex.lock"
_OPEN_LOCK = "heimdex.open.lock"  # apart from _LOCK: a client is opened inside writes too
_EXACT_DIR = "exact"

log = logging.getLogger(__name__)
_lock = threading.Lock()


def _marker(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path / _MARKER)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def _generation(path: Path) -> str | None:
    """The generation a writer last marked (a fresh uuid per write), or None if none was."""
    try:
        found = (path / _MARKER).read_text().strip()
    except FileNotFoundError:
        return None
    return found if re.fullmatch(r"[0-9a-f]{32}", found) else None


@dataclass(frozen=True)
class ExactCopy:
    """One collection's vectors at one generation, for exact kNN without Chroma. ``matrix``
    is None when the collection was too large for a copy (queries go to Chroma)."""

    generation: str
    ids: np.ndarray  # vector ids, str
    video_ids: np.ndarray  # the video of each vector (its ``video_id`` metadata), str
    matrix: np.ndarray | None  # unit rows, float32

    def nearest(
        self, vector: np.ndarray, n: int, videos: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``n`` nearest vectors by cosine distance (as Chroma's ``hnsw:space`` cosine:
        one minus the dot product of unit vectors), nearest first."""
        assert self.matrix is not None
        rows = np.flatnonzero(np.isin(self.video_ids, list(videos))) if videos else None
        matrix = self.matrix if rows is None else self.matrix[rows]
        if len(matrix) == 0 or n < 1:
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / np.float32(max(float(np.linalg.norm(query)), 1e-30))
        distances = np.float32(1.0) - matrix @ query
        best = (
            np.argpartition(distances, n - 1)[:n]
            if n < len(distances)
            else np.arange(len(distances))
        )
        best = best[np.argsort(distances[best], kind="stable")]
        picked = best if rows is None else rows[best]
        return [(str(self.ids[i]), float(d)) for i, d in zip(picked, distances[best], strict=True)]


_copies: dict[str, ExactCopy] = {}


def _read_copy(folder: Path, name: str, generation: str) -> ExactCopy | None:
    """The copy of ``name`` at ``generation``; its matrix is memory-mapped, not read (a
    ``.npz`` of 20k x 384 took 0.03-0.11 s of CPU to read, the mapped ``.npy`` and a whole
    query ~0.01 s)."""
    base = f"{name}.{generation}"
    try:
        with np.load(folder / f"{base}.npz", allow_pickle=False) as data:
            too_big, ids, videos = bool(data["too_big"]), data["ids"], data["video_ids"]
        matrix = None if too_big else np.load(folder / f"{base}.npy", mmap_mode="r")
    except (OSError, ValueError, KeyError):  # none yet, or the files of an old crash
        return None
    return ExactCopy(generation, ids, videos, matrix)


def _write_copy(folder: Path, name: str, copy: ExactCopy) -> None:
    """The matrix, then the ids (each renamed into place when whole; the ids file is what a
    reader looks for), then other generations' files of ``name`` go. A reader that mapped an
    old matrix keeps it until it is done: a removed file lives on while mapped."""
    folder.mkdir(parents=True, exist_ok=True)
    base, tmp = f"{name}.{copy.generation}", f".{name}.{uuid.uuid4().hex}"
    try:
        if copy.matrix is not None:
            np.save(folder / f"{tmp}.npy", copy.matrix)
            os.replace(folder / f"{tmp}.npy", folder / f"{base}.npy")
        np.savez(folder / f"{tmp}.npz", ids=copy.ids, video_ids=copy.video_ids,
                 too_big=np.array(copy.matrix is None))  # fmt: skip
        os.replace(folder / f"{tmp}.npz", folder / f"{base}.npz")
    finally:
        for suffix in (".npy", ".npz"):
            with contextlib.suppress(FileNotFoundError):
                (folder / f"{tmp}{suffix}").unlink()
    for old in folder.glob(f"{name}.*.np[yz]"):
        if old.name.split(".")[-2] != copy.generation:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()


def _unit_rows(vectors: Any, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, np.float32(1e-30)))


@dataclass
class _Embedded:
    """This process's client of one vectors directory and the marker it has seen."""

    client: Any
    marker: tuple[int, int] | None
    epoch: int


_embedded: dict[str, _Embedded] = {}


def _defer_iri_grammar() -> None:
    """Make ``import chromadb`` skip building an RFC 3987 grammar it does not use (~1.8 s).

    chromadb imports jsonschema (for embedding-function configs, which Heimdex never passes),
    and jsonschema's format module imports ``rfc3987_syntax``, whose import compiles an Earley
    grammar for IRI checks. Before jsonschema is first imported, a stand-in package takes the
    name: it imports the real module on first use, so an IRI check still gives the same answer,
    only its cost moves to the first such check (none, in Heimdex).
    """
    name = "rfc3987_syntax"
    if name in sys.modules or "jsonschema" in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return
    stand_in = types.ModuleType(name, "Stand-in for rfc3987_syntax until first use.")
    stand_in.__spec__ = spec
    stand_in.__path__ = list(spec.submodule_search_locations)

    def real(attribute: str) -> Any:
        helpers = importlib.import_module(f"{name}.syntax_helpers")
        return getattr(helpers, attribute)

    def is_valid_syntax(term: str, value: str) -> bool:
        return bool(real("is_valid_syntax")(term, value))

    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = real  # type: ignore[method-assign]
    sys.modules[name] = stand_in


def _import_chromadb() -> Any:
    _defer_iri_grammar()
    import chromadb

    return chromadb


def _chroma_settings() -> Any:
    _defer_iri_grammar()
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _embedded_client(path: Path) -> _Embedded:
    """The process's client of ``path``; a new one (fresh from disk) if another process wrote.

    Chroma shares one system per directory in a process, and clients and collections hold on
    to it: a reload drops it from Chroma's cache, makes a new client, and bumps ``epoch`` so
    every VectorStore drops its collections.
    """
    _defer_iri_grammar()
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(path.resolve())
    now = _marker(path)
    entry = _embedded.get(key)
    if entry is not None and entry.marker == now:
        return entry
    with _lock:
        entry = _embedded.get(key)
        now = _marker(path)  # read before loading: a write racing the load means a reload
        if entry is None:
            entry = _embedded[key] = _Embedded(_open(path), now, 0)
        elif entry.marker != now:
            log.info("vectors in %s changed in another process: reloading", path)
            # Not stopped: a query may still hold it (stopping it under a running query failed
            # a Ray worker's embedding stage); unreferenced once every store has moved on, it
            # is freed by the garbage collector.
            SharedSystemClient._identifier_to_system.pop(entry.client._identifier, None)
            entry = _embedded[key] = _Embedded(_open(path), now, entry.epoch + 1)
        return entry


def _open(path: Path) -> Any:
    """A persistent client of ``path``, opened by one process at a time: two processes opening
    a new directory at once both create Chroma's tables, and one fails ("table collections
    already exists"; two Ray workers reaching their embedding stage together)."""
    chromadb = _import_chromadb()

    with open(path / _OPEN_LOCK, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def collection_name(kind: str, model: str, dim: int, owner: str) -> str:
    """``scene_text__all-MiniLM-L6-v2__384__u<owner hash>``: characters Chroma accepts.

    One collection per owner: a kNN query then needs no metadata filter, which at 100k scenes
    cost ~570 ms per query (benchmarks/search.py), and users can never meet in a query.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.") or "model"
    user = hashlib.sha256(owner.encode()).hexdigest()[:12]
    return f"{kind}__{safe}__{dim}__u{user}"


class VectorStore:
    """Chroma, embedded (a directory) by default or a server by URL."""

    def __init__(
        self,
        path: Path | None = None,
        url: str | None = None,
        owner: str = "local",
        exact_max: int = 50_000,
    ) -> None:
        self._http: Any = None
        self.path: Path | None = None
        if url:
            from urllib.parse import urlparse

            chromadb = _import_chromadb()
            parsed = urlparse(url)
            self._http = chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=_chroma_settings(),
            )
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.path = path  # Chroma is opened on first use: a search may not need it
        self._collections: dict[str, Any] = {}
        self._epoch = 0
        self.owner = owner
        self.exact_max = exact_max

    @property
    def client(self) -> Any:
        """The Chroma client, reloaded first if another process wrote to this directory."""
        if self.path is None:
            return self._http
        entry = _embedded_client(self.path)
        if entry.epoch != self._epoch:
            self._collections.clear()
            self._epoch = entry.epoch
        return entry.client

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Exclusive across processes; starts from what others wrote, then marks a change."""
        if self.path is None:
            yield
            return
        with open(self.path / _LOCK, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                entry = _embedded_client(self.path)
                yield
                tmp = self.path / f".{_MARKER}.{uuid.uuid4().hex}"
                tmp.write_text(uuid.uuid4().hex)
                os.replace(tmp, self.path / _MARKER)
                with _lock:  # our own write is in our loaded index already: no reload for it
                    entry.marker = _marker(self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def collection(self, kind: str, model: str, dim: int) -> Any:
        client = self.client
        name = collection_name(kind, model, dim, self.owner)
        col = self._collections.get(name)
        if col is None:
            col = client.get_or_create_collection(
                name=name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "model": model, "dim": dim, "kind": kind},
            )
            self._collections[name] = col
        return col

    def nearest(
        self,
        kind: str,
        model: str,
        dim: int,
        vector: np.ndarray,
        n: int,
        videos: Sequence[str] = (),
    ) -> list[tuple[str, float]]:
        """The ``n`` vectors nearest to ``vector`` (of ``videos`` only, if given) as
        ``(id, cosine distance)``, nearest first: from the exact copy when it is current and
        the collection small enough, else from Chroma."""  # fmt: skip
        exact = self.path is not None and self.exact_max > 0
        copy = self._exact_copy(kind, model, dim) if exact else None
        if copy is not None and copy.matrix is not None and len(copy.ids) <= self.exact_max:
            return copy.nearest(vector, n, videos)
        collection = self.collection(kind, model, dim)
        where = {"video_id": {"$in": list(videos)}} if videos else None
        try:
            result = collection.query(
                query_embeddings=[np.asarray(vector).tolist()], n_results=n, where=where,
                include=["distances"],
            )  # fmt: skip
        except Exception:  # an empty collection cannot be queried
            if collection.count() == 0:
                return []
            raise
        return [(str(i), float(d)) for i, d in zip(result["ids"][0], result["distances"][0],
                                                   strict=True)]  # fmt: skip

    def _exact_copy(self, kind: str, model: str, dim: int) -> ExactCopy | None:
        """The collection's exact copy at the current generation (read or rebuilt); None
        when no write has marked a generation yet."""
        assert self.path is not None
        generation = _generation(self.path)
        if generation is None:
            return None
        folder, name = self.path / _EXACT_DIR, collection_name(kind, model, dim, self.owner)
        key = str(folder / name)
        copy = _copies.get(key)
        if copy is None or copy.generation != generation:
            copy = _read_copy(folder, name, generation)
        if copy is None:
            with open(self.path / _LOCK, "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_SH)  # no write halfway through what we read
                try:
                    generation = _generation(self.path)
                    if generation is None:
                        return None
                    copy = self._copy_from_chroma(kind, model, dim, generation)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
            _write_copy(folder, name, copy)
            log.info("exact copy of %s rebuilt (%d vectors)", name, len(copy.ids))
        _copies[key] = copy
        return copy

    def _copy_from_chroma(self, kind: str, model: str, dim: int, generation: str) -> ExactCopy:
        collection = self.collection(kind, model, dim)
        empty = np.array([], dtype=str)
        if collection.count() > self.exact_max:
            return ExactCopy(generation, empty, empty, None)
        got = collection.get(include=["embeddings", "metadatas"])
        ids = np.array(got["ids"], dtype=str)
        videos = np.array([str((m or {}).get("video_id", "")) for m in got["metadatas"]],
                          dtype=str)  # fmt: skip
        return ExactCopy(generation, ids, videos, _unit_rows(got["embeddings"], dim))

    def replace_video(
        self,
        kind: str,
        model: str,
        video_id: str,
        ids: Sequence[str],
        vectors: np.ndarray,
        metadatas: Sequence[dict[str, Any]],
        dim: int,
    ) -> None:
        """Drop the video's vectors of this kind and model, then add these (idempotent)."""
        with self._writing():
            col = self.collection(kind, model, dim)
            col.delete(where={"video_id": video_id})
            for i in range(0, len(ids), _BATCH):
                col.upsert(
                    ids=list(ids[i : i + _BATCH]),
                    embeddings=vectors[i : i + _BATCH].astype(np.float32),
                    metadatas=list(metadatas[i : i + _BATCH]),
                )

    def delete_video(self, video_id: str) -> None:
        """Remove a video's vectors from every collection."""
        with self._writing():
            for col in self.client.list_collections():
                self.client.get_collection(col.name).delete(where={"video_id": video_id})

    def count(self, kind: str, model: str, dim: int, video_id: str | None = None) -> int:
        col = self.collection(kind, model, dim)
        if video_id is None:
            return int(col.count())
        return len(col.get(where={"video_id": video_id}, include=[])["ids"])

    def models(self, kind: str) -> list[str]:
        """The models whose vectors of ``kind`` this owner has (non-empty collections)."""
        mine = collection_name(kind, "m", 1, self.owner).split("__")[-1]
        found = set()
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(f"{kind}__") and name.endswith(f"__{mine}"):
                loaded = self.client.get_collection(name)
                if loaded.count():
                    found.add(str((loaded.metadata or {}).get("model", name.split("__")[1])))
        return sorted(found)

    def ids(self, kind: str, model: str, dim: int, video_id: str) -> list[str]:
        col = self.collection(kind, model, dim)
        return list(col.get(where={"video_id": video_id}, include=[])["ids"])
