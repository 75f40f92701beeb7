"""Sentence embeddings for scene text (sentence-transformers)."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence

import numpy as np

from heimdex_lab.embed.registry import locate
from heimdex_lab.errors import ModelUnavailable

log = logging.getLogger(__name__)


class TextEmbedder:
    """Unit-length vectors for sentences and queries from one sentence-transformers model."""

    def __init__(self, name: str, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every load

        target, where = locate("text", name)
        try:
            self.model = SentenceTransformer(target, device="cpu")
        except Exception as exc:  # a broken or partial model directory
            raise ModelUnavailable(f"text model {name!r} at {target} did not load: {exc}") from exc
        self.name = name
        self.batch_size = batch_size
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        self.dim = int(dim)
        log.info("text model %s (%d-d) from %s", name, self.dim, where)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_load_lock = threading.Lock()


@functools.cache
def _load(name: str, batch_size: int) -> TextEmbedder:
    return TextEmbedder(name, batch_size)


def text_embedder(name: str, batch_size: int = 32) -> TextEmbedder:
    """The process-wide embedder for ``name`` (loaded once, on first use, by one thread)."""
    with _load_lock:
        return _load(name, batch_size)
