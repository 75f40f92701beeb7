"""Search results grouped by video (``group="video"``): pure functions over ranked scene ids."""

from __future__ import annotations

from collections.abc import Sequence


def video_of(scene_id: str) -> str:
    """Scene ids are ``{video_id}:{scene_no}``."""
    return scene_id.rsplit(":", 1)[0]


def group_by_video(ranked: Sequence[str], per_video: int) -> list[tuple[str, list[str], int]]:
    """Videos in the order of their best scene, each as (video id, its best ``per_video``
    scene ids in rank order, how many of its scenes are in ``ranked``)."""
    if per_video < 1:
        raise ValueError(f"per_video must be at least 1 (got {per_video})")
    order: list[str] = []
    best: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for scene_id in ranked:
        video_id = video_of(scene_id)
        if video_id not in best:
            order.append(video_id)
            best[video_id] = []
            counts[video_id] = 0
        counts[video_id] += 1
        if len(best[video_id]) < per_video:
            best[video_id].append(scene_id)
    return [(v, best[v], counts[v]) for v in order]
