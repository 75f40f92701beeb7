"""Sentence embeddings for scene text and queries.

A sentence-transformers model directory whose modules are Transformer → Pooling (mean or CLS) →
Normalize (MiniLM, MPNet, BGE) runs on `transformers` directly: the same vectors, and a process
starts ~3 s sooner than with the sentence-transformers import (first search, DESIGN.md §5).
Any other layout loads through sentence-transformers.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heimdex_lab.embed.registry import locate
from heimdex_lab.errors import ModelUnavailable

log = logging.getLogger(__name__)

_SIMPLE_MODULES = {
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
}


def _simple_layout(folder: Path) -> dict[str, Any] | None:
    """Pooling and length settings of a plain Transformer/Pooling/Normalize model, else None."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        types = [m["type"] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((folder / pooling_dir / "config.json").read_text())
        bert = json.loads((folder / "sentence_bert_config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        return None
    if not set(types) <= _SIMPLE_MODULES or types[0] != "sentence_transformers.models.Transformer":
        return None
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
        return None
    return {
        "pooling": "mean" if modes == ["pooling_mode_mean_tokens"] else "cls",
        "normalize": "sentence_transformers.models.Normalize" in types,
        "max_length": int(bert.get("max_seq_length", 512)),
        "lowercase": bool(bert.get("do_lower_case", False)),
    }


class TextEmbedder:
    """Unit-length vectors for sentences and queries from one text model."""

    def __init__(self, name: str, batch_size: int = 32) -> None:
        target, where = locate("text", name)
        self.name = name
        self.batch_size = batch_size
        self._st: Any = None
        layout = _simple_layout(Path(target)) if Path(target).is_dir() else None
        try:
            if layout is not None:
                self._load_transformers(target, layout)
            else:
                self._load_sentence_transformers(target)
        except ModelUnavailable:
            raise
        except Exception as exc:  # a broken or partial model directory
            raise ModelUnavailable(f"text model {name!r} at {target} did not load: {exc}") from exc
        log.info("text model %s (%d-d) from %s", name, self.dim, where)

    def _load_transformers(self, target: str, layout: dict[str, Any]) -> None:
        import torch
        import transformers
        from transformers import AutoConfig, AutoTokenizer
        from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every load
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(target)
        # The concrete class by name: AutoModel's lookup imports far more of transformers.
        config = AutoConfig.from_pretrained(target)
        model_class = getattr(transformers, str(MODEL_MAPPING_NAMES[config.model_type]))
        self._model = model_class.from_pretrained(target, config=config).eval()
        self._layout = layout
        self.dim = int(self._model.config.hidden_size)

    def _load_sentence_transformers(self, target: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._st = SentenceTransformer(target, device="cpu")
        dim = self._st.get_embedding_dimension()
        assert dim is not None
        self.dim = int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._st is not None:
            vectors = self._st.encode(list(texts), batch_size=self.batch_size,
                                      normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)  # fmt: skip
            return np.asarray(vectors, dtype=np.float32)
        out = []
        torch = self._torch
        items = [t.lower() for t in texts] if self._layout["lowercase"] else list(texts)
        with torch.inference_mode():
            for i in range(0, len(items), self.batch_size):
                batch = self._tokenizer(
                    items[i : i + self.batch_size], padding=True, truncation=True,
                    max_length=self._layout["max_length"], return_tensors="pt",
                )  # fmt: skip
                tokens = self._model(**batch).last_hidden_state
                if self._layout["pooling"] == "mean":
                    mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                    pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                else:
                    pooled = tokens[:, 0]
                if self._layout["normalize"]:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out.append(pooled.float().numpy())
        return np.concatenate(out).astype(np.float32)


_load_lock = threading.Lock()


@functools.cache
def _load(name: str, batch_size: int) -> TextEmbedder:
    return TextEmbedder(name, batch_size)


def text_embedder(name: str, batch_size: int = 32) -> TextEmbedder:
    """The process-wide embedder for ``name`` (loaded once, on first use, by one thread)."""
    with _load_lock:
        return _load(name, batch_size)
