"""Face detection and face vectors, by backend name, plus the pure rules that match and group them.

Default backend "dlib": HOG detector + 128-d ResNet descriptor, models from the PyPI package
``face-recognition-models`` (CC0), Euclidean distance (same person below ~0.6). Backend "yunet":
OpenCV YuNet + SFace from local ONNX files, cosine distance.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from heimdex_lab.config import Settings
from heimdex_lab.errors import ModelUnavailable


@dataclass(frozen=True)
class FaceBox:
    """A detected face: pixel box (left, top, width, height) and the detector's confidence."""

    left: int
    top: int
    width: int
    height: int
    confidence: float = 1.0


class FaceBackend(Protocol):
    name: str
    dim: int
    default_threshold: float

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...

    def embed(self, image: np.ndarray, boxes: Sequence[FaceBox]) -> np.ndarray: ...

    def distances(self, vectors: np.ndarray, references: np.ndarray) -> np.ndarray: ...


def _models_dir() -> Path:
    # Located without importing the package: its __init__ imports pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "face models are not installed: pip install face-recognition-models dlib-bin"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class DlibFaces:
    """dlib HOG detector (upsampled once, so ~40 px faces are found) + ResNet descriptors."""

    name = "dlib"
    dim = 128
    default_threshold = 0.6

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise ModelUnavailable("dlib is not installed: pip install dlib-bin") from exc
        self._models = _models_dir()
        self._detector = dlib.get_frontal_face_detector()
        self._dlib = dlib
        self._encoder_lock = threading.Lock()
        self._encoder: tuple[object, object] | None = None

    def _landmarks_and_encoder(self) -> tuple[Any, Any]:
        """Loaded on the first face (~0.5 s, 30 MB): most keyframes of most videos have none."""
        with self._encoder_lock:
            if self._encoder is None:
                models, dlib = self._models, self._dlib
                shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
                encoder = dlib.face_recognition_model_v1(
                    str(models / "dlib_face_recognition_resnet_model_v1.dat")
                )
                self._encoder = (shape, encoder)
            return self._encoder

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        rects, scores, _ = self._detector.run(np.ascontiguousarray(image), 1, 0.0)
        height, width = image.shape[:2]
        boxes = []
        for rect, score in zip(rects, scores, strict=True):
            left, top = max(rect.left(), 0), max(rect.top(), 0)
            right, bottom = min(rect.right(), width), min(rect.bottom(), height)
            if right > left and bottom > top:
                boxes.append(FaceBox(left, top, right - left, bottom - top, float(score)))
        return boxes

    def embed(self, image: np.ndarray, boxes: Sequence[FaceBox]) -> np.ndarray:
        out = np.zeros((len(boxes), self.dim), dtype=np.float32)
        if not boxes:
            return out
        image = np.ascontiguousarray(image)
        landmarks, encoder = self._landmarks_and_encoder()
        for i, box in enumerate(boxes):
            rect = self._dlib.rectangle(
                box.left, box.top, box.left + box.width, box.top + box.height
            )
            shape = landmarks(image, rect)
            out[i] = np.asarray(encoder.compute_face_descriptor(image, shape, 1))
        return out

    def distances(self, vectors: np.ndarray, references: np.ndarray) -> np.ndarray:
        return euclidean(vectors, references)


class YuNetSFace:
    """OpenCV YuNet detector + SFace recognizer from local ONNX files (cosine distance)."""

    name = "yunet"
    dim = 128
    default_threshold = 0.637  # 1 - 0.363, OpenCV's suggested cosine similarity threshold

    def __init__(self, detector: Path | None, recognizer: Path | None) -> None:
        import cv2

        for label, path, env in (
            ("YuNet detector", detector, "HEIMDEX_FACE_DETECTOR_PATH"),
            ("SFace recognizer", recognizer, "HEIMDEX_FACE_RECOGNIZER_PATH"),
        ):
            if path is None or not Path(path).is_file():
                raise ModelUnavailable(
                    f"face backend 'yunet' needs the {label} ONNX file: {path or 'not set'} "
                    f"not found; set {env} to a local file"
                )
        assert detector is not None and recognizer is not None
        self._detector = cv2.FaceDetectorYN.create(str(detector), "", (320, 320))
        self._recognizer = cv2.FaceRecognizerSF.create(str(recognizer), "")
        self._rows: dict[tuple[int, int, int, int], np.ndarray] = {}

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        import cv2

        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        self._detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, faces = self._detector.detect(bgr)
        boxes = []
        for row in faces if faces is not None else []:
            box = FaceBox(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[-1]))
            self._rows[(box.left, box.top, box.width, box.height)] = row
            boxes.append(box)
        return boxes

    def embed(self, image: np.ndarray, boxes: Sequence[FaceBox]) -> np.ndarray:
        import cv2

        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        out = np.zeros((len(boxes), self.dim), dtype=np.float32)
        for i, box in enumerate(boxes):
            row = self._rows.get((box.left, box.top, box.width, box.height))
            if row is None:
                row = np.array(
                    [box.left, box.top, box.width, box.height] + [0.0] * 11, dtype=np.float32
                )
            aligned = self._recognizer.alignCrop(bgr, row)
            vector = self._recognizer.feature(aligned).reshape(-1)
            out[i] = vector / (np.linalg.norm(vector) or 1.0)
        return out

    def distances(self, vectors: np.ndarray, references: np.ndarray) -> np.ndarray:
        return 1.0 - vectors @ references.T


BACKENDS = ("dlib", "yunet")
_lock = threading.Lock()


@functools.cache
def _load(name: str, detector: Path | None, recognizer: Path | None) -> FaceBackend:
    if name == "dlib":
        return DlibFaces()
    if name == "yunet":
        return YuNetSFace(detector, recognizer)
    raise ModelUnavailable(f"unknown face backend {name!r} (available: {', '.join(BACKENDS)})")


def face_backend(settings: Settings) -> FaceBackend:
    """The process-wide face backend of these settings; raises `ModelUnavailable`."""
    with _lock:
        return _load(
            settings.face_backend, settings.face_detector_path, settings.face_recognizer_path
        )


def threshold(settings: Settings, backend: FaceBackend) -> float:
    return settings.face_match_threshold or backend.default_threshold


# Pure rules -----------------------------------------------------------------------------------


def euclidean(vectors: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances, shape (len(vectors), len(references))."""
    if len(vectors) == 0 or len(references) == 0:
        return np.zeros((len(vectors), len(references)), dtype=np.float32)
    diff = vectors[:, None, :].astype(np.float64) - references[None, :, :].astype(np.float64)
    return np.sqrt((diff**2).sum(axis=-1))


def match_faces(
    distances: np.ndarray, reference_people: Sequence[str], limit: float
) -> list[tuple[str | None, float | None]]:
    """For each face (row), the person of its nearest reference if within ``limit``."""
    out: list[tuple[str | None, float | None]] = []
    for row in distances:
        if len(row) == 0:
            out.append((None, None))
            continue
        best = int(np.argmin(row))
        distance = float(row[best])
        out.append((reference_people[best], distance) if distance <= limit else (None, distance))
    return out


def cluster(distances: np.ndarray, limit: float) -> list[int]:
    """Group faces by average linkage: a cluster's faces are on average within ``limit``.

    Labels are 0..n-1, numbered by first appearance, so they are stable for the same input.
    """
    n = len(distances)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    condensed = squareform(np.asarray(distances, dtype=np.float64), checks=False)
    labels = fcluster(linkage(condensed, method="average"), t=limit, criterion="distance")
    renumber: dict[int, int] = {}
    return [renumber.setdefault(int(label), len(renumber)) for label in labels]
