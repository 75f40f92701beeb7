"""Scene detection (PySceneDetect) and the pure rules that shape its output."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.types import SceneSpan

# Frames handed to the detector between two progress reports.
_PROGRESS_CHUNK_FRAMES = 250


def _detector(settings: Settings, min_frames: int) -> object:
    from scenedetect import AdaptiveDetector, ContentDetector

    if settings.scene_detector == "adaptive":
        return AdaptiveDetector(min_scene_len=min_frames)
    return ContentDetector(threshold=settings.scene_threshold, min_scene_len=min_frames)


def detect_cuts(
    path: Path, settings: Settings, on_progress: Callable[[float], None] | None = None
) -> tuple[list[float], float]:
    """Cut times in seconds (the first frame of each new shot) and the video's duration."""
    from scenedetect import SceneManager, open_video

    # PySceneDetect sets its logger to INFO on import and reports every run.
    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)
    video = open_video(str(path), backend="pyav")
    fps = float(video.frame_rate)
    manager = SceneManager()
    manager.add_detector(_detector(settings, max(1, round(settings.min_scene_s * fps))))
    total_frames = max(int(video.duration.frame_num), 1) if video.duration else 0
    while manager.detect_scenes(video, duration=_PROGRESS_CHUNK_FRAMES) > 0:
        if on_progress is not None and total_frames:
            on_progress(min(video.frame_number / total_frames, 1.0))
    duration = video.frame_number / fps if fps else 0.0
    if video.duration is not None:
        duration = max(duration, float(video.duration.seconds))
    cuts = [round(float(c.seconds), 4) for c in manager.get_cut_list()]
    return cuts, duration


def spans_from_cuts(cuts: Sequence[float], duration: float) -> list[SceneSpan]:
    """Consecutive [start, end) spans covering the whole video."""
    bounds = [0.0, *sorted(c for c in cuts if 0.0 < c < duration), duration]
    return [SceneSpan(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def split_long(spans: Sequence[SceneSpan], max_s: float) -> list[SceneSpan]:
    """Split every span longer than ``max_s`` into equal parts no longer than ``max_s``."""
    out: list[SceneSpan] = []
    for span in spans:
        length = span.end - span.start
        parts = max(1, math.ceil(length / max_s - 1e-9)) if max_s > 0 else 1
        step = length / parts
        out.extend(
            SceneSpan(round(span.start + i * step, 4), round(span.start + (i + 1) * step, 4))
            if i < parts - 1
            else SceneSpan(round(span.start + i * step, 4), span.end)
            for i in range(parts)
        )
    return out


def detect_scenes(
    path: Path, settings: Settings, on_progress: Callable[[float], None] | None = None
) -> list[SceneSpan]:
    """Scenes of the video at ``path``: detected shots, long shots split (architecture.md §1)."""
    cuts, duration = detect_cuts(path, settings, on_progress)
    return split_long(spans_from_cuts(cuts, duration), settings.max_scene_s)
