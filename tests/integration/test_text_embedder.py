"""The fast text paths (ONNX export, transformers) give the vectors sentence-transformers gives."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from heimdex_lab.embed.onnx_export import onnx_model
from heimdex_lab.embed.registry import locate
from heimdex_lab.embed.text import TextEmbedder, text_embedder

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = [
    "The rocket launch was delayed because the budget ran out.",
    "a cat",
    "Grace Hopper explained how the first compiler worked, and why it mattered so much. " * 12,
]


def real_text() -> list[str]:
    """What the samples say and what the eval queries ask, plus edge cases of length and script."""
    samples = json.loads((ROOT / "data" / "samples" / "samples.json").read_text())
    spoken = [s["text"] for v in samples["videos"] for s in v.get("sentences", [])]
    queries = ROOT / "data" / "samples" / "queries.jsonl"
    asked = [json.loads(line)["query"] for line in queries.read_text().splitlines() if line]
    return [*spoken, *asked, *SENTENCES, "", "Ünïcödé façade — naïve café 東京", "x " * 600]


@pytest.mark.parametrize(("name", "dim"), [("all-MiniLM-L6-v2", 384), ("all-mpnet-base-v2", 768)])
def test_onnx_and_torch_vectors_match_sentence_transformers(name: str, dim: int) -> None:
    from sentence_transformers import SentenceTransformer

    texts = real_text()
    onnx = text_embedder(name)
    assert onnx.runtime == "onnx", "the packaged models run on onnxruntime"
    torch = TextEmbedder(name, runtime="torch")
    want = SentenceTransformer(locate("text", name)[0], device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True
    )
    got = onnx.embed(texts)
    assert got.shape == (len(texts), dim) and got.dtype == np.float32
    assert np.abs(got - torch.embed(texts)).max() < 1e-4
    assert np.abs(got - want).max() < 1e-4
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_racing_processes_export_once(tmp_path: Path) -> None:
    """Several searches starting together on a models folder: one export, all use it.

    An export in an older format of the same model goes (it is ~90-440 MB); another model's
    export that happens to share the name stays.
    """
    folder = Path(locate("text", "all-MiniLM-L6-v2")[0])
    stale, foreign = tmp_path / "all-MiniLM-L6-v2-000000000000", tmp_path / "all-MiniLM-L6-v2-1"
    for old, source in ((stale, folder), (foreign, tmp_path / "elsewhere")):
        old.mkdir()
        (old / "heimdex-onnx.json").write_text(json.dumps({"source": str(source)}))
    found = []

    def search() -> None:
        found.append(onnx_model("all-MiniLM-L6-v2", folder, tmp_path))

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 3 and len(set(found)) == 1
    exports = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert exports == sorted([found[0].model.parent, foreign]), (
        "no second export, no half-written folder, no stale export left"
    )
    assert found[0].dim == 384 and found[0].pad_token == "[PAD]"
    # The weights sit apart from the graph: the session reads them flat, not as protobuf.
    assert (found[0].model.parent / "model.onnx.data").stat().st_size > 80e6
    assert found[0].model.stat().st_size < 1e6


def test_without_onnx_the_model_runs_on_torch_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HEIMDEX_MODELS_DIR", str(tmp_path))
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    embedder = TextEmbedder("all-MiniLM-L6-v2")
    assert embedder.runtime == "torch"
    assert "runs on torch" in caplog.text and "onnx" in caplog.text
    onnx = text_embedder("all-MiniLM-L6-v2")
    assert np.abs(embedder.embed(SENTENCES) - onnx.embed(SENTENCES)).max() < 1e-4
