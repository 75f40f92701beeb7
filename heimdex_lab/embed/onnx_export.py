"""The transformer of a sentence-transformers model, exported once to ONNX and cached.

Exported lazily, on the first need of each model, into the models folder (``HEIMDEX_MODELS_DIR``)
rather than at install time: the models folder is a setting, a model can be a local path chosen
after install, and the mpnet model is itself unpacked there on first use. The export takes torch
a few seconds; an exclusive file lock makes racing processes wait for the one that exports, and
the folder is renamed into place only when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from heimdex_lab.config import Settings

log = logging.getLogger(__name__)

# Bumped when the exported files change (inputs, outputs, opset, layout): old exports are then
# ignored. 2: weights in an external file beside the graph.
EXPORT_FORMAT = 2
OPSET = 17
_META = "heimdex-onnx.json"


class ExportFailed(RuntimeError):
    """The model could not be exported (no `onnx` package, an unsupported architecture…)."""


@dataclass(frozen=True)
class ExportedModel:
    model: Path
    dim: int
    pad_id: int
    pad_token: str


def export_key(folder: Path) -> str:
    """Names one export: the model's config and weight files (name and size) and the format."""
    files = sorted(
        p
        for p in folder.iterdir()
        if p.suffix in (".safetensors", ".bin") or p.name == "config.json"
    )
    parts = [[p.name, p.stat().st_size] for p in files]
    config = (folder / "config.json").read_text() if (folder / "config.json").is_file() else ""
    blob = json.dumps([EXPORT_FORMAT, OPSET, parts, config]).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def onnx_model(name: str, folder: Path, root: Path | None = None) -> ExportedModel:
    """The ONNX export of the model in ``folder`` (exported now if this is the first need)."""
    root = root if root is not None else Settings().models_path / "onnx"
    try:
        target = root / f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)}-{export_key(folder)}"
        found = _read(target)
        if found is not None:
            return found
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root / f".{target.name}.lock"):
            found = _read(target)  # another process may have finished while we waited
            if found is not None:
                return found
            log.warning("exporting text model %s to ONNX (once, ~10 s) into %s", name, target)
            work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
            try:
                _export(folder, work)
                shutil.rmtree(target, ignore_errors=True)  # a folder without its marker
                work.rename(target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            _drop_stale(root, target, folder)
    except ExportFailed:
        raise
    except Exception as exc:  # no onnx package, a model torch cannot trace, a full disk…
        raise ExportFailed(f"ONNX export of {name} failed: {exc}") from exc
    found = _read(target)
    if found is None:
        raise ExportFailed(f"ONNX export of {name} left no model in {target}")
    return found


def _read(target: Path) -> ExportedModel | None:
    try:
        meta = json.loads((target / _META).read_text())
        return ExportedModel(target / "model.onnx", int(meta["dim"]), int(meta["pad_id"]),
                             str(meta["pad_token"]))  # fmt: skip
    except (OSError, ValueError, KeyError):
        return None


def _drop_stale(root: Path, current: Path, folder: Path) -> None:
    """Remove earlier exports of the same model folder (an older format): ~440 MB each.

    A process still running on one keeps its open files (POSIX); only exports made from this
    very ``folder`` go, so two models that share a name never delete each other's.
    """
    for other in root.glob(f"{current.name.rsplit('-', 1)[0]}-*"):
        if other == current or not other.is_dir():
            continue
        try:
            source = json.loads((other / _META).read_text()).get("source")
        except (OSError, ValueError):
            continue  # not a finished export: perhaps another process's, in progress
        if source == str(folder):
            log.info("removing the stale ONNX export %s", other)
            shutil.rmtree(other, ignore_errors=True)
            (root / f".{other.name}.lock").unlink(missing_ok=True)


def _weights_apart(model: Path) -> None:
    """Move the weights out of the protobuf into ``model.onnx.data`` beside it.

    onnxruntime then reads a small graph and the weights as one flat file instead of parsing
    ~440 MB of protobuf: the MPNet session loads in 0.35 s instead of 0.9 s on 2 cores (the
    largest part of a cold ``heimdex search``), with the same vectors.
    """
    import onnx

    graph = onnx.load(str(model))
    onnx.save_model(graph, str(model), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=f"{model.name}.data", size_threshold=1024)  # fmt: skip
    (model.parent / f"{model.name}.data").chmod(model.stat().st_mode & 0o777)  # onnx: 0600


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no POSIX locks: the rename into place still keeps the folder whole
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export(folder: Path, work: Path) -> None:
    """Write ``model.onnx`` (inputs as the tokenizer gives them, output the token vectors)."""
    import importlib.util
    import inspect

    if importlib.util.find_spec("onnx") is None:
        raise ExportFailed("the `onnx` package is not installed (pip install onnx)")
    import torch
    import transformers
    from transformers import AutoConfig, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    config = AutoConfig.from_pretrained(folder)
    model_class = getattr(transformers, str(MODEL_MAPPING_NAMES[config.model_type]))
    model = model_class.from_pretrained(folder, config=config).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]

    class TokenVectors(torch.nn.Module):
        """Keyword arguments in a fixed order: the exporter passes inputs by position."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = tokenizer(["a short one", "and a somewhat longer sentence"], padding=True,
                       return_tensors="pt")  # fmt: skip
    dynamic = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shapes it cannot see
        torch.onnx.export(
            TokenVectors(), tuple(sample[n] for n in names), str(work / "model.onnx"),
            input_names=names, output_names=["last_hidden_state"], dynamic_axes=dynamic,
            opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    _weights_apart(work / "model.onnx")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    meta = {
        "dim": int(config.hidden_size),
        "pad_id": int(pad_id),
        "pad_token": str(tokenizer.pad_token or tokenizer.convert_ids_to_tokens(pad_id)),
        "source": str(folder),
        "torch": torch.__version__,
    }
    (work / _META).write_text(json.dumps(meta) + "\n")  # written last: marks a complete export
