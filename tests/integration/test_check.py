"""`heimdex check`: where catalog, vectors, media and keyframes disagree; repairs what it can."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from heimdex_lab import Library
from heimdex_lab.cli import app
from heimdex_lab.store.vectors import SCENE_TEXT


def _check(lib: Library, *flags: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["--library", str(lib.path), "check", "--json", *flags])
    return result.exit_code, json.loads(result.stdout)


def test_check_finds_and_repairs(library: Library, copy_sample) -> None:
    (video,) = library.ingest([copy_sample("space_talk.mp4")], progress=False)
    video_id = str(video.video_id)
    assert _check(library) == (0, {"ok": True, "problems": []})

    ids = library.vectors.ids(SCENE_TEXT, "all-MiniLM-L6-v2", 384, video_id)
    library.vectors.collection(SCENE_TEXT, "all-MiniLM-L6-v2", 384).delete(ids=ids[:1])
    (library.media.media_dir / ("0" * 64 + ".mp4")).write_bytes(b"left behind")
    (library.media.keyframes_dir / "gone-video").mkdir()
    code, report = _check(library)
    assert code == 1 and not report["ok"]
    assert sorted(p["kind"] for p in report["problems"]) == [
        "orphan_files", "orphan_media", "text_vectors"]  # fmt: skip

    code, report = _check(library, "--repair")
    assert code == 0 and all(p["repaired"] for p in report["problems"])
    assert sorted(library.vectors.ids(SCENE_TEXT, "all-MiniLM-L6-v2", 384, video_id)) == sorted(ids)
    assert _check(library) == (0, {"ok": True, "problems": []})

    keyframe = library.path / library.scenes(video_id)["keyframes"][0][0]
    keyframe.unlink()
    code, report = _check(library, "--repair")
    assert code == 1 and [p["kind"] for p in report["problems"]] == ["missing_keyframes"]
