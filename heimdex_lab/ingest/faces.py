"""The faces stage: faces in each scene's keyframes, with a vector and a crop thumbnail each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from heimdex_lab.config import Settings
from heimdex_lab.embed.face import FaceBackend, FaceBox
from heimdex_lab.ingest.keyframes import keyframe_times
from heimdex_lab.types import Scene

CROP_PX = 112
# Crops show a little context around the detector's tight box.
_CROP_MARGIN = 0.25


@dataclass(frozen=True)
class FoundFace:
    face_id: str
    scene_id: str
    t: float
    box: FaceBox
    vector: np.ndarray
    crop: Image.Image


def usable(boxes: Sequence[FaceBox], settings: Settings) -> list[FaceBox]:
    """Boxes confident and large enough to recognise (small or doubtful faces match badly)."""
    return [
        b
        for b in boxes
        if b.confidence >= settings.face_min_confidence
        and min(b.width, b.height) >= settings.face_min_px
    ]


def crop(image: Image.Image, box: FaceBox) -> Image.Image:
    pad_w, pad_h = box.width * _CROP_MARGIN, box.height * _CROP_MARGIN
    area = (
        max(0, round(box.left - pad_w)),
        max(0, round(box.top - pad_h)),
        min(image.width, round(box.left + box.width + pad_w)),
        min(image.height, round(box.top + box.height + pad_h)),
    )
    thumb = image.crop(area)
    thumb.thumbnail((CROP_PX, CROP_PX))
    return thumb


def find_faces(
    scenes: Sequence[Scene],
    library: Path,
    backend: FaceBackend,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
) -> list[FoundFace]:
    """Detect and embed the faces of every keyframe; ids ``{scene_id}:{keyframe}:{face}``."""
    found: list[FoundFace] = []
    total = sum(len(s.keyframes) for s in scenes) or 1
    done = 0
    for scene in scenes:
        times = keyframe_times(scene.start, scene.end, settings)
        for k, rel in enumerate(scene.keyframes):
            with Image.open(library / rel) as opened:
                image = opened.convert("RGB")
            pixels = np.asarray(image)
            boxes = usable(backend.detect(pixels), settings)
            vectors = backend.embed(pixels, boxes)
            t = times[k] if k < len(times) else (scene.start + scene.end) / 2
            for i, (box, vector) in enumerate(zip(boxes, vectors, strict=True)):
                found.append(
                    FoundFace(
                        f"{scene.scene_id}:{k}:{i}",
                        scene.scene_id,
                        t,
                        box,
                        vector,
                        crop(image, box),
                    )
                )
            done += 1
            if on_progress is not None:
                on_progress(done / total)
    return found
