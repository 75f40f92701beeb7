"""Library consistency: catalog ↔ vectors ↔ media ↔ keyframes (`heimdex check [--repair]`).

The catalog is the source of truth: vectors are rebuilt from it and the keyframes, files nobody
references are orphans.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from heimdex_lab.errors import HeimdexError
from heimdex_lab.ingest.scene_text import sentences
from heimdex_lab.media.probe import probe, video_end_s
from heimdex_lab.media.proxy import make_proxy, needs_proxy, proxy_format
from heimdex_lab.store.schema import VideoRow
from heimdex_lab.store.vectors import SCENE_TEXT
from heimdex_lab.types import Scene, VideoState

if TYPE_CHECKING:
    from heimdex_lab.library import Library

# A ready video's scenes may end short of its video stream by this much (seconds, or this share
# of its length) before they count as cut off: the last frame's length and rounding differ.
_COVERAGE_SLACK_S = 2.0
_COVERAGE_SLACK_SHARE = 0.05


@dataclass
class Problem:
    kind: str
    detail: str
    video_id: str | None = None
    path: str | None = None
    repaired: bool = False


def check(lib: Library, repair: bool = False) -> dict[str, Any]:
    """Every inconsistency found (and, with ``repair``, fixed where it can be)."""
    problems: list[Problem] = []
    with lib.catalog.session() as s:
        all_videos = list(s.query(VideoRow))
    referenced = {v.media_name for v in all_videos if v.media_name}
    referenced |= {p for name in referenced for p in lib.media.proxy_names(name)}
    known_ids = {v.id for v in all_videos}
    for video in (v for v in all_videos if v.owner == lib.user and v.state == VideoState.READY):
        scenes = lib.store.scenes.of_video(video.id)
        if not video.media_name or not lib.media.path(video.media_name).is_file():
            problems.append(Problem("missing_media", f"{video.filename}: stored file is gone",
                                    video.id, video.media_name))  # fmt: skip
        else:
            found = _check_proxy(lib, video, repair)
            if not any(p.kind == "unreadable_media" for p in found):
                found += _check_coverage(lib, video, scenes, repair)
            problems.extend(found)
            if repair and any(p.kind == "truncated_scenes" for p in found):
                scenes = lib.store.scenes.of_video(video.id)  # ingested again just now
        missing = [k for sc in scenes for k in sc.keyframes if not (lib.path / k).is_file()]
        if missing:
            problems.append(Problem("missing_keyframes", f"{video.filename}: {len(missing)} "
                                    "keyframe file(s) missing", video.id, missing[0]))  # fmt: skip
        want = {f"{sc.scene_id}:{k}" for sc in scenes for k in range(len(sentences(sc.text)))}
        have = set(lib.vectors.ids(SCENE_TEXT, lib.settings.text_model, _text_dim(lib), video.id))
        if want != have:
            problem = Problem(
                "text_vectors",
                f"{video.filename}: {len(want - have)} missing, {len(have - want)} extra",
                video.id,
            )
            if repair:
                lib.reindex("text", video.id)
                problem.repaired = True
            problems.append(problem)
    for path in sorted(lib.media.media_dir.iterdir()):
        if path.name not in referenced:
            problem = Problem("orphan_media", "a stored file no video refers to", path=str(path))
            if repair:
                path.unlink(missing_ok=True)
                problem.repaired = True
            problems.append(problem)
    for folder in (lib.media.keyframes_dir, lib.path / "faces"):
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.name not in known_ids:
                problem = Problem("orphan_files", "files of a video that no longer exists",
                                  path=str(path))  # fmt: skip
                if repair:
                    shutil.rmtree(path, ignore_errors=True)
                    problem.repaired = True
                problems.append(problem)
    left = [p for p in problems if not p.repaired]
    return {"ok": not left, "problems": [asdict(p) for p in problems]}


def _check_proxy(lib: Library, video: VideoRow, repair: bool) -> list[Problem]:
    """A stored file the browser cannot play needs its proxy (videos ingested before proxies
    existed, or a proxy deleted by hand); repair makes it."""
    name = video.media_name or ""
    if lib.media.proxy_path(name) is not None:
        return []
    try:
        if not needs_proxy(lib.media.path(name)):
            return []
    except HeimdexError as exc:
        return [Problem("unreadable_media", f"{video.filename}: {exc}", video.id, name)]
    problem = Problem("missing_proxy", f"{video.filename}: no browser-playable copy, so the "
                      "player cannot show it", video.id, name)  # fmt: skip
    if repair:
        try:
            make_proxy(lib.media.path(name), lib.media.proxy_target(name, proxy_format().ext))
            problem.repaired = True
        except HeimdexError as exc:
            problem.detail += f" (repair failed: {exc})"
    return [problem]


def _check_coverage(
    lib: Library, video: VideoRow, scenes: list[Scene], repair: bool
) -> list[Problem]:
    """The scenes must reach the end of the video stream. Scenes that stop well short of it were
    cut to a stale header's duration (probing believed the header before it read the data);
    repair ingests the video again from its stored file."""
    end = scenes[-1].end if scenes else 0.0
    if _probed_from_data(lib, video.id) and not _short(end, video.duration_s or 0.0):
        return []  # duration_s is the data's own length, and the scenes reach it: no scan
    name = video.media_name or ""
    try:
        stream_end = video_end_s(lib.media.path(name))
    except HeimdexError as exc:
        return [Problem("unreadable_media", f"{video.filename}: {exc}", video.id, name)]
    if not _short(end, stream_end):
        return []
    problem = Problem("truncated_scenes", f"{video.filename}: the scenes end at {end:.2f} s but "
                      f"the video runs to {stream_end:.2f} s, so the rest cannot be found "
                      "(a stale duration header?)", video.id, name)  # fmt: skip
    if repair:
        try:
            _ingest_again(lib, video)
            problem.repaired = True
        except HeimdexError as exc:
            problem.detail += f" (repair failed: {exc})"
    return [problem]


def _short(end: float, length: float) -> bool:
    return length - end > max(_COVERAGE_SLACK_S, _COVERAGE_SLACK_SHARE * length)


def _probed_from_data(lib: Library, video_id: str) -> bool:
    """Whether ingest measured where the data ends (recorded by the validating job since
    duration_s is taken from the data when a header says less)."""
    jobs = [j for j in lib.catalog.jobs(video_id) if j.stage == VideoState.VALIDATING]
    return any(j.models and j.models.get("duration_stream_s") is not None for j in jobs)


def _ingest_again(lib: Library, video: VideoRow) -> None:
    """Derive everything again from the stored file, keeping the video's id and name: a new
    probe (duration_s from the data), its outputs dropped, the pipeline from transcription."""
    info = probe(lib.media.path(video.media_name or ""), lib.settings)
    lib.catalog.restart_ingest(video.id, info)  # not ready from here: searches leave it out
    lib.vectors.delete_video(video.id)
    result = lib.retry(video.id)
    if result.state != VideoState.READY:
        raise HeimdexError(result.error or f"ingest ended {result.state}")


def _text_dim(lib: Library) -> int:
    from heimdex_lab.embed.text import text_embedder

    return text_embedder(lib.settings.text_model, lib.settings.embed_batch_size).dim
