"""Exact kNN on a numpy copy of a collection: Chroma's answers, without Chroma in the process.

A search from a new process reads ``vectors/exact/*.npz`` instead of opening Chroma (issue:
start fast). The copy must give what Chroma gives, follow every write (also another
process's), honour the video filter, and step aside for collections over the size limit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heimdex_lab.store.vectors import SCENE_TEXT, VectorStore

MODEL, DIM = "test-model", 16


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def fill(store: VectorStore, video: str, vectors: np.ndarray) -> list[str]:
    ids = [f"{video}:{k // 2}:{k % 2}" for k in range(len(vectors))]
    metas = [{"video_id": video, "scene_id": i.rsplit(":", 1)[0]} for i in ids]
    store.replace_video(SCENE_TEXT, MODEL, video, ids, vectors, metas, DIM)
    return ids


def chroma_answer(store: VectorStore, query: np.ndarray, n: int, where: object = None) -> list:
    got = store.collection(SCENE_TEXT, MODEL, DIM).query(
        query_embeddings=[query.tolist()], n_results=n, where=where, include=["distances"]
    )
    return list(zip(got["ids"][0], got["distances"][0], strict=True))


@pytest.fixture()
def store(tmp_path: Path) -> VectorStore:
    rng = np.random.default_rng(7)
    store = VectorStore(tmp_path / "vectors", exact_max=1000)
    for video in ("va", "vb", "vc"):
        fill(store, video, unit(rng, 60))
    return store


def test_exact_copy_answers_as_chroma_does(store: VectorStore) -> None:
    """Small collections: HNSW is exact here, so ids and order agree and distances to 1e-5."""
    rng = np.random.default_rng(8)
    assert store.path is not None
    for query in unit(rng, 5):
        got = store.nearest(SCENE_TEXT, MODEL, DIM, query, 25)
        want = chroma_answer(store, query, 25)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert np.allclose([d for _, d in got], [d for _, d in want], atol=1e-5)
        only = store.nearest(SCENE_TEXT, MODEL, DIM, query, 25, videos=["vb"])
        assert [i for i, _ in only] == [
            i for i, _ in chroma_answer(store, query, 25, {"video_id": {"$in": ["vb"]}})
        ]
        assert all(i.startswith("vb:") for i, _ in only)
    assert list((store.path / "exact").glob("*.npz")), "the copy is kept on disk"


def test_a_write_in_another_process_is_seen(store: VectorStore, tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    query = unit(rng, 1)[0]
    store.nearest(SCENE_TEXT, MODEL, DIM, query, 5)  # builds and caches the copy
    code = (
        "import sys, numpy as np\n"
        "from heimdex_lab.store.vectors import VectorStore, SCENE_TEXT\n"
        "q = np.array([float(x) for x in sys.argv[2].split(',')], dtype=np.float32)\n"
        "VectorStore(__import__('pathlib').Path(sys.argv[1])).replace_video(\n"
        "    SCENE_TEXT, 'test-model', 'vnew', ['vnew:0:0'], q[None, :],\n"
        "    [{'video_id': 'vnew', 'scene_id': 'vnew:0'}], 16)\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "vectors"), ",".join(map(str, query))],
        check=True, cwd=root,
    )  # fmt: skip
    (first, distance), *_ = store.nearest(SCENE_TEXT, MODEL, DIM, query, 5)
    assert first == "vnew:0:0" and distance == pytest.approx(0.0, abs=1e-5)
    store.delete_video("vnew")
    assert "vnew:0:0" not in [i for i, _ in store.nearest(SCENE_TEXT, MODEL, DIM, query, 5)]
    assert store.path is not None
    assert len(list((store.path / "exact").glob("*.npy"))) == 1, "old generations are removed"


def test_a_new_process_searches_without_chroma(store: VectorStore, tmp_path: Path) -> None:
    query = unit(np.random.default_rng(10), 1)[0]
    want = [i for i, _ in store.nearest(SCENE_TEXT, MODEL, DIM, query, 10)]
    code = (
        "import sys, pathlib, numpy as np\n"
        "from heimdex_lab.store.vectors import VectorStore, SCENE_TEXT\n"
        "q = np.array([float(x) for x in sys.argv[2].split(',')], dtype=np.float32)\n"
        "store = VectorStore(pathlib.Path(sys.argv[1]))\n"
        "got = store.nearest(SCENE_TEXT, 'test-model', 16, q, 10)\n"
        "assert 'chromadb' not in sys.modules, 'chromadb was imported'\n"
        "print(' '.join(i for i, _ in got))\n"
    )
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "vectors"), ",".join(map(str, query))],
        capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == want


def test_a_collection_over_the_limit_goes_to_chroma(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "vectors", exact_max=50)
    fill(store, "va", unit(np.random.default_rng(11), 60))
    query = unit(np.random.default_rng(12), 1)[0]
    got = store.nearest(SCENE_TEXT, MODEL, DIM, query, 10)
    assert got == chroma_answer(store, query, 10)
    (copy,) = (tmp_path / "vectors" / "exact").glob("*.npz")
    with np.load(copy) as data:
        assert bool(data["too_big"])
    assert not list(copy.parent.glob("*.npy")), "no matrix kept"
