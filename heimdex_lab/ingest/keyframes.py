"""Keyframes: which moments of a scene represent it, and the JPEG files cut from them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from heimdex_lab.config import Settings
from heimdex_lab.media.decode import frames_at
from heimdex_lab.types import Scene


def keyframe_times(start: float, end: float, settings: Settings) -> list[float]:
    """The middle of the scene, plus evenly spaced frames for long scenes (an odd count, ≤ max)."""
    length = max(end - start, 0.0)
    count = min(settings.max_keyframes, 1 + int(length // settings.keyframe_every_s))
    if count % 2 == 0:
        count -= 1  # odd counts keep the middle frame among them
    count = max(count, 1)
    return [round(start + length * (i + 1) / (count + 1), 4) for i in range(count)]


def extract_keyframes(
    media: Path,
    scenes: Sequence[Scene],
    out_dir: Path,
    library: Path,
    settings: Settings,
    on_progress: Callable[[float], None] | None = None,
) -> dict[str, list[str]]:
    """Save each scene's keyframes as JPEG; return scene id → paths relative to the library."""
    wanted: list[tuple[float, str, int]] = []
    for scene in scenes:
        for k, t in enumerate(keyframe_times(scene.start, scene.end, settings)):
            wanted.append((t, scene.scene_id, k))
    by_time: dict[float, list[tuple[str, int]]] = {}
    for t, scene_id, k in wanted:
        by_time.setdefault(t, []).append((scene_id, k))
    no_of = {s.scene_id: s.no for s in scenes}
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, list[str]] = {s.scene_id: [] for s in scenes}
    done = 0
    for t, image in frames_at(media, sorted(by_time), settings.keyframe_max_side):
        for scene_id, k in by_time[t]:
            target = out_dir / f"{no_of[scene_id]}_{k}.jpg"
            image.convert("RGB").save(target, "JPEG", quality=settings.keyframe_jpeg_quality)
            result[scene_id].append(target.relative_to(library).as_posix())
            done += 1
        if on_progress is not None and wanted:
            on_progress(done / len(wanted))
    return result
