"""Sentence embeddings for scene text and queries.

A sentence-transformers model directory whose modules are Transformer → Pooling (mean or CLS) →
Normalize (MiniLM, MPNet, BGE) runs on onnxruntime + tokenizers: its transformer is exported to
ONNX once (embed/onnx_export.py) and cached beside the library's models, so a search imports
neither torch nor transformers (about 3 s of a new process). Where the export is impossible the
same model runs on `transformers` (same vectors, slower start), with one warning. Any other layout
loads through sentence-transformers.
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
# Threads of one model call; None = the runtime's default (every core). `heimdex serve` sets 1.
_threads: int | None = None


def set_threads(n: int | None) -> None:
    """Threads each text model call may use (models loaded later, and torch when loaded)."""
    global _threads
    _threads = n
    import sys

    if n is not None and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


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


def _pool(tokens: np.ndarray, mask: np.ndarray, layout: dict[str, Any]) -> np.ndarray:
    """Sentence vectors from token vectors, as sentence-transformers' Pooling + Normalize."""
    if layout["pooling"] == "mean":
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    else:
        pooled = tokens[:, 0]
    if layout["normalize"]:
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        pooled = pooled / np.clip(norms, 1e-12, None)  # torch.nn.functional.normalize's eps
    return np.asarray(pooled, dtype=np.float32)


class TextEmbedder:
    """Unit-length vectors for sentences and queries from one text model."""

    def __init__(self, name: str, batch_size: int = 32, runtime: str = "auto") -> None:
        """``runtime``: "onnx", "torch", or "auto" (ONNX, else torch with a warning)."""
        target, where = locate("text", name)
        self.name = name
        self.batch_size = batch_size
        self.runtime = "sentence-transformers"
        self._st: Any = None
        layout = _simple_layout(Path(target)) if Path(target).is_dir() else None
        try:
            if layout is None:
                self._load_sentence_transformers(target)
            elif runtime in ("auto", "onnx") and self._load_onnx(name, target, layout, runtime):
                self.runtime = "onnx"
            else:
                self._load_transformers(target, layout)
                self.runtime = "torch"
        except ModelUnavailable:
            raise
        except Exception as exc:  # a broken or partial model directory
            raise ModelUnavailable(f"text model {name!r} at {target} did not load: {exc}") from exc
        log.info("text model %s (%d-d, %s) from %s", name, self.dim, self.runtime, where)

    def _load_onnx(self, name: str, target: str, layout: dict[str, Any], runtime: str) -> bool:
        """Load the ONNX export (exporting it first if needed); False when that is impossible."""
        from heimdex_lab.embed.onnx_export import ExportFailed, onnx_model

        try:
            exported = onnx_model(name, Path(target))
            import onnxruntime
            from tokenizers import Tokenizer
        except (ExportFailed, ImportError) as exc:
            if runtime == "onnx":
                raise ModelUnavailable(f"text model {name!r}: no ONNX runtime: {exc}") from exc
            log.warning("text model %s runs on torch (slower start): %s", name, exc)
            return False
        options = onnxruntime.SessionOptions()
        # Idle pool threads sleep rather than spin: spinning burns a shared core between calls
        # (three one-query runs: 0.24 s of CPU spinning, 0.15 s not). Same vectors: the work
        # is split the same way.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if _threads is not None:
            options.intra_op_num_threads = _threads
            options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(exported.model), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(Path(target) / "tokenizer.json"))
        tokenizer.enable_truncation(layout["max_length"])
        tokenizer.enable_padding(pad_id=exported.pad_id, pad_token=exported.pad_token)
        self._fast_tokenizer = tokenizer
        self._layout = layout
        self.dim = exported.dim
        return True

    def _load_transformers(self, target: str, layout: dict[str, Any]) -> None:
        import torch
        import transformers
        from transformers import AutoConfig, AutoTokenizer
        from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every load
        if _threads is not None:
            torch.set_num_threads(_threads)
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
        items = [t.lower() for t in texts] if self._layout["lowercase"] else list(texts)
        batches = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        embed_batch = self._embed_onnx if self.runtime == "onnx" else self._embed_torch
        return np.concatenate([embed_batch(b) for b in batches]).astype(np.float32)

    def _embed_onnx(self, batch: list[str]) -> np.ndarray:
        encodings = self._fast_tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (tokens,) = self._session.run(None, feed)
        return _pool(tokens, mask, self._layout)

    def _embed_torch(self, batch: list[str]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            encoded = self._tokenizer(
                batch, padding=True, truncation=True,
                max_length=self._layout["max_length"], return_tensors="pt",
            )  # fmt: skip
            tokens = self._model(**encoded).last_hidden_state
            if self._layout["pooling"] == "mean":
                mask = encoded["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            else:
                pooled = tokens[:, 0]
            if self._layout["normalize"]:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            return np.asarray(pooled.float().numpy())


_load_lock = threading.Lock()


@functools.cache
def _load(name: str, batch_size: int) -> TextEmbedder:
    return TextEmbedder(name, batch_size)


def text_embedder(name: str, batch_size: int = 32) -> TextEmbedder:
    """The process-wide embedder for ``name`` (loaded once, on first use, by one thread)."""
    with _load_lock:
        return _load(name, batch_size)
