"""Vector collections in Chroma: one collection per kind, model and dimension.

A model change therefore never mixes vectors of two models. Embeddings are always passed
explicitly: Chroma's default embedder would download a model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SCENE_TEXT = "scene_text"
SCENE_IMAGE = "scene_image"
FACES = "faces"
# Chroma rejects a very large single add; batches stay well under its limit.
_BATCH = 4096


def collection_name(kind: str, model: str, dim: int, owner: str) -> str:
    """``scene_text__all-MiniLM-L6-v2__384__u<owner hash>``: characters Chroma accepts.

    One collection per owner: a kNN query then needs no metadata filter, which at 100k scenes
    cost ~570 ms per query (benchmarks/search.py), and users can never meet in a query.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.") or "model"
    user = hashlib.sha256(owner.encode()).hexdigest()[:12]
    return f"{kind}__{safe}__{dim}__u{user}"


@dataclass(frozen=True)
class VectorHit:
    id: str
    distance: float
    metadata: dict[str, Any]


class VectorStore:
    """Chroma, embedded (a directory) by default or a server by URL."""

    def __init__(
        self, path: Path | None = None, url: str | None = None, owner: str = "local"
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            from urllib.parse import urlparse

            parsed = urlparse(url)
            self.client = chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        self._collections: dict[str, Any] = {}
        self.owner = owner

    def collection(self, kind: str, model: str, dim: int) -> Any:
        name = collection_name(kind, model, dim, self.owner)
        col = self._collections.get(name)
        if col is None:
            col = self.client.get_or_create_collection(
                name=name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "model": model, "dim": dim, "kind": kind},
            )
            self._collections[name] = col
        return col

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
        for col in self.client.list_collections():
            self.client.get_collection(col.name).delete(where={"video_id": video_id})

    def count(self, kind: str, model: str, dim: int, video_id: str | None = None) -> int:
        col = self.collection(kind, model, dim)
        if video_id is None:
            return int(col.count())
        return len(col.get(where={"video_id": video_id}, include=[])["ids"])

    def ids(self, kind: str, model: str, dim: int, video_id: str) -> list[str]:
        col = self.collection(kind, model, dim)
        return list(col.get(where={"video_id": video_id}, include=[])["ids"])
