"""CLIP image and text vectors for keyframes (open_clip).

No CLIP weights ship in a PyPI package, so the configured checkpoint is looked for in a local
file or the local cache. When it is absent, visual search is off (one warning) and keyframes are
kept so `heimdex reindex --stage image` can fill the vectors in later.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from heimdex_lab.config import Settings
from heimdex_lab.errors import ModelUnavailable
from heimdex_lab.types import ModelStatus

log = logging.getLogger(__name__)


class ImageEmbedder:
    """One open_clip model: images and text queries into the same unit-length space."""

    def __init__(
        self, name: str, pretrained: str, checkpoint: Path | None, config: Path | None
    ) -> None:
        import open_clip
        import torch

        if config is not None:
            if not config.exists():
                raise ModelUnavailable(f"open_clip model config {config} not found")
            open_clip.add_model_config(config)
        if name not in open_clip.list_models():
            raise ModelUnavailable(
                f"image model {name!r} is not an open_clip architecture "
                "(see open_clip.list_models(), or set HEIMDEX_IMAGE_MODEL_CONFIG)"
            )
        if checkpoint is not None:
            if not checkpoint.is_file():
                raise ModelUnavailable(
                    f"image checkpoint {checkpoint} not found; set HEIMDEX_IMAGE_CHECKPOINT to an "
                    "existing open_clip checkpoint file"
                )
            source = str(checkpoint)
            self.version = checkpoint.stem
        else:
            _require_cached(name, pretrained)
            source = pretrained
            self.version = pretrained
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=source, device="cpu"
            )
        except Exception as exc:  # open_clip raises plain errors when weights are not local
            raise ModelUnavailable(
                f"image model {name} weights {source!r} are not on this machine ({exc}); "
                f"run `heimdex models fetch {name}` where a model hub is reachable, or set "
                "HEIMDEX_IMAGE_CHECKPOINT to a local checkpoint"
            ) from exc
        model.eval()
        self._torch = torch
        self.model: Any = model
        self.preprocess: Any = preprocess
        self.tokenizer: Any = open_clip.get_tokenizer(name)
        self.name = name
        self.dim = int(open_clip.get_model_config(name)["embed_dim"])

    @property
    def collection_model(self) -> str:
        """The name vectors are filed under: architecture and weights together."""
        return f"{self.name}__{self.version}"

    def embed_images(self, images: Sequence[Image.Image], batch_size: int = 16) -> np.ndarray:
        out = []
        with self._torch.inference_mode():
            for i in range(0, len(images), batch_size):
                batch = self._torch.stack(
                    [self.preprocess(im.convert("RGB")) for im in images[i : i + batch_size]]
                )
                out.append(self.model.encode_image(batch, normalize=True).float().numpy())
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        with self._torch.inference_mode():
            tokens = self.tokenizer(list(texts))
            return self.model.encode_text(tokens, normalize=True).float().numpy().astype(np.float32)


def _require_cached(name: str, tag: str) -> None:
    """Raise `ModelUnavailable` unless the weights of ``name``/``tag`` are already on disk.

    Checked before building the model, and without any download: open_clip would otherwise try
    the hub (or a plain URL) first.
    """
    from open_clip import pretrained

    cfg = pretrained.get_pretrained_cfg(name, tag)
    fix = (
        f"run `heimdex models fetch {name}` where a model hub is reachable, or set "
        "HEIMDEX_IMAGE_CHECKPOINT to a local checkpoint file"
    )
    if not cfg:
        raise ModelUnavailable(f"image model {name} has no pretrained weights named {tag!r}; {fix}")
    if cfg.get("hf_hub"):
        from huggingface_hub import try_to_load_from_cache

        repo = cfg["hf_hub"].rstrip("/")
        for filename in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
            if isinstance(try_to_load_from_cache(repo, filename), str):
                return
    elif cfg.get("url"):
        cached = Path("~/.cache/clip").expanduser() / Path(cfg["url"]).name
        if cached.is_file():
            return
    raise ModelUnavailable(
        f"image model {name} weights {tag!r} are not in the local model cache; {fix}"
    )


def _no_weights_anywhere(name: str) -> bool:
    """True when ``name`` is a built-in open_clip architecture and no open_clip weights at all
    are in the local caches: then the model is unavailable, known without importing open_clip
    and torch (~3 s of an ingest or search whose library has no image weights)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        return False
    package = Path(next(iter(spec.submodule_search_locations)))
    if not (package / "model_configs" / f"{name}.json").is_file():
        return False  # a name open_clip must judge itself
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME")
        or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface"),
        "hub",
    )
    hub_files = Path(hub).expanduser().glob("models--*/snapshots/*/open_clip_*")
    url_files = (Path("~/.cache/clip").expanduser()).glob("*")
    return next(hub_files, None) is None and next(url_files, None) is None


@functools.cache
def _load(
    name: str, pretrained: str, checkpoint: Path | None, config: Path | None
) -> ImageEmbedder:
    return ImageEmbedder(name, pretrained, checkpoint, config)


_load_lock = threading.Lock()
_unavailable: dict[tuple[object, ...], ModelUnavailable] = {}


def image_embedder(settings: Settings) -> ImageEmbedder:
    """The process-wide image model of these settings; raises `ModelUnavailable`."""
    key = (
        settings.image_model,
        settings.image_pretrained,
        settings.image_checkpoint,
        settings.image_model_config,
    )
    with _load_lock:
        # A missing model stays missing for this process: hybrid search asks on every query,
        # and trying again costs the open_clip import and a cache lookup each time.
        if key in _unavailable:
            raise _unavailable[key]
        try:
            if key[2] is None and key[3] is None and _no_weights_anywhere(settings.image_model):
                raise ModelUnavailable(
                    f"image model {settings.image_model} weights {settings.image_pretrained!r} "
                    f"are not in the local model cache; run `heimdex models fetch "
                    f"{settings.image_model}` where a model hub is reachable, or set "
                    "HEIMDEX_IMAGE_CHECKPOINT to a local checkpoint file"
                )
            return _load(*key)
        except ModelUnavailable as exc:
            _unavailable[key] = exc
            raise


def image_model_status(settings: Settings) -> ModelStatus:
    name = settings.image_model
    try:
        model = image_embedder(settings)
    except ModelUnavailable as exc:
        return ModelStatus(
            "image",
            name,
            False,
            reason=str(exc),
            fix=f"heimdex models fetch {name}, or HEIMDEX_IMAGE_CHECKPOINT=/path/to/checkpoint",
        )
    where = f"path: {settings.image_checkpoint}" if settings.image_checkpoint else "cache"
    return ModelStatus("image", name, True, location=where, extra={"dim": str(model.dim)})
