"""Pure face rules: nearest-reference matching with a threshold, and grouping by likeness."""

from __future__ import annotations

import numpy as np

from heimdex_lab.embed.face import cluster, euclidean, match_faces


def test_euclidean_distances() -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0], [6.0, 8.0], [3.0, 0.0]])
    assert np.allclose(euclidean(a, b), [[0, 10, 3], [5, 5, 4]])
    assert euclidean(a, np.zeros((0, 2))).shape == (2, 0)


def test_each_face_takes_its_nearest_reference_within_the_limit() -> None:
    distances = np.array([[0.7, 0.3, 0.5], [0.61, 0.65, 0.9], [0.6, 0.8, 0.2]])
    people = ["ann", "bob", "ann"]
    assert match_faces(distances, people, 0.6) == [
        ("bob", 0.3),  # nearest is bob at 0.3
        (None, 0.61),  # nearest is 0.61: just over the limit
        ("ann", 0.2),  # ann's second photo is nearest
    ]
    assert match_faces(np.array([[0.6]]), ["ann"], 0.6) == [("ann", 0.6)]  # the limit is inclusive
    assert match_faces(np.zeros((2, 0)), [], 0.6) == [(None, None), (None, None)]


def test_grouping_joins_alike_faces_and_keeps_strangers_apart() -> None:
    points = np.array([[0.0, 0.0], [0.2, 0.0], [5.0, 5.0], [0.1, 0.1], [5.2, 5.0], [10.0, 0.0]])
    labels = cluster(euclidean(points, points), 0.6)
    assert labels == [0, 0, 1, 0, 1, 2]
    assert cluster(np.zeros((0, 0)), 0.6) == [] and cluster(np.zeros((1, 1)), 0.6) == [0]


def test_yunet_backend_names_the_missing_model_file(tmp_path) -> None:
    import pytest

    from heimdex_lab.config import Settings
    from heimdex_lab.embed.face import face_backend
    from heimdex_lab.errors import ModelUnavailable

    settings = Settings(
        library=tmp_path,
        face_backend="yunet",
        face_detector_path=tmp_path / "face_detection_yunet.onnx",
        face_recognizer_path=tmp_path / "face_recognition_sface.onnx",
    )
    with pytest.raises(ModelUnavailable) as info:
        face_backend(settings)
    message = str(info.value)
    assert "face_detection_yunet.onnx not found" in message
    assert "HEIMDEX_FACE_DETECTOR_PATH" in message
