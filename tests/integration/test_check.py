"""`heimdex check`: where catalog, vectors, media and keyframes disagree; repairs what it can."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.store.schema import JobRow, VideoRow
from heimdex_lab.store.vectors import SCENE_TEXT
from tests.data import bad_inputs
from tests.integration.test_ingest import text_model


def _check(lib: Library, *flags: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["--library", str(lib.path), "check", "--json", *flags])
    return result.exit_code, json.loads(result.stdout)


def test_check_finds_and_repairs(library: Library, copy_sample) -> None:
    (video,) = library.ingest([copy_sample("space_talk.mp4")], progress=False)
    video_id = str(video.video_id)
    assert _check(library) == (0, {"ok": True, "problems": []})

    ids = library.vectors.ids(SCENE_TEXT, *text_model(library), video_id)
    library.vectors.collection(SCENE_TEXT, *text_model(library)).delete(ids=ids[:1])
    (library.media.media_dir / ("0" * 64 + ".mp4")).write_bytes(b"left behind")
    (library.media.keyframes_dir / "gone-video").mkdir()
    code, report = _check(library)
    assert code == 1 and not report["ok"]
    assert sorted(p["kind"] for p in report["problems"]) == [
        "orphan_files", "orphan_media", "text_vectors"]  # fmt: skip

    code, report = _check(library, "--repair")
    assert code == 0 and all(p["repaired"] for p in report["problems"])
    assert sorted(library.vectors.ids(SCENE_TEXT, *text_model(library), video_id)) == sorted(ids)
    assert _check(library) == (0, {"ok": True, "problems": []})

    keyframe = library.path / library.scenes(video_id).frame["keyframes"][0][0]
    keyframe.unlink()
    code, report = _check(library, "--repair")
    assert code == 1 and [p["kind"] for p in report["problems"]] == ["missing_keyframes"]


def test_check_finds_scenes_cut_to_a_stale_header_and_ingests_again(
    library: Library, tmp_path: Path
) -> None:
    """A video ingested when a stale 0.033 s header was believed (simulated: its duration,
    scenes and validating job as that ingest left them) is flagged, because its scenes end
    far short of its video stream; --repair ingests it again under the same id and name."""
    path = bad_inputs.short_duration_mkv(tmp_path)
    (video,) = library.ingest([path], progress=False)
    video_id = str(video.video_id)
    assert video.state == "ready" and video.duration_s is not None
    whole = library.scenes(video_id).frame
    first = library.store.scenes.of_video(video_id)[0]
    with library.catalog.session() as s:
        s.execute(update(VideoRow).where(VideoRow.id == video_id)
                  .values(duration_s=bad_inputs.SHORT_CLAIM_S))  # fmt: skip
        s.execute(update(JobRow).where(JobRow.video_id == video_id, JobRow.stage == "validating")
                  .values(models=None))  # fmt: skip
        cut = replace(first, end=bad_inputs.SHORT_CLAIM_S, text="")
        library.store.scenes.replace(s, video_id, [cut])
    library.reindex("text", video_id)  # consistent but for the scenes' length
    assert library.scenes(video_id).frame["end"].to_list() == [bad_inputs.SHORT_CLAIM_S]

    code, report = _check(library)
    assert code == 1 and [p["kind"] for p in report["problems"]] == ["truncated_scenes"]
    (problem,) = report["problems"]
    assert problem["video_id"] == video_id and not problem["repaired"]
    assert (
        f"the scenes end at 0.03 s but the video runs to {bad_inputs.TALK_S:.2f} s"
        in (problem["detail"])
    )

    code, report = _check(library, "--repair")
    assert code == 0 and [(p["kind"], p["repaired"]) for p in report["problems"]] == [
        ("truncated_scenes", True)
    ]
    (row,) = library.videos().frame.rows(named=True)
    assert (row["video_id"], row["filename"], row["state"]) == (video_id, path.name, "ready")
    assert row["duration_s"] == video.duration_s
    assert library.scenes(video_id).frame.select("start", "end", "text").rows() == (
        whole.select("start", "end", "text").rows()
    )
    assert "monday" in " ".join(library.scenes(video_id).frame["text"].to_list()).lower()
    jobs = {j.stage: j for j in library.catalog.jobs(video_id)}
    assert jobs["validating"].models == {
        "duration_header_s": bad_inputs.SHORT_CLAIM_S,
        "duration_stream_s": video.duration_s,
    }
    assert _check(library) == (0, {"ok": True, "problems": []})
