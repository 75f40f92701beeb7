"""End-to-end ingestion of the real sample videos with the real packaged models."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jiwer
import polars as pl
import pytest
from PIL import Image

from heimdex_lab import Library
from heimdex_lab.embed.registry import TEXT_MODELS
from heimdex_lab.errors import NotFound, UsageError, VideoBusy
from heimdex_lab.ingest import lease
from heimdex_lab.ingest.scene_text import sentences
from heimdex_lab.store.vectors import SCENE_IMAGE, SCENE_TEXT
from heimdex_lab.types import IngestResult, VideoState


def text_model(lib: Library) -> tuple[str, int]:
    """The configured text model and its dimension: the text collection's key."""
    name = lib.settings.text_model
    return name, int(TEXT_MODELS[name].dim or 0)


SPEECH = ("space_talk.mp4", "kitchen_cat.mkv")


def _by_file(results: list[IngestResult]) -> dict[str, IngestResult]:
    return {Path(r.file).name: r for r in results}


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", text.lower().replace("-", " ")).strip()


def test_every_sample_becomes_ready(ingested: tuple[Library, list[IngestResult]]) -> None:
    _, results = ingested
    assert [(Path(r.file).name, r.state, r.duplicate, r.error) for r in results] == [
        ("space_talk.mp4", "ready", False, None),
        ("kitchen_cat.mkv", "ready", False, None),
        ("silent_coins.webm", "ready", False, None),
    ]


@pytest.mark.parametrize("name", ["space_talk.mp4", "kitchen_cat.mkv", "silent_coins.webm"])
def test_cuts_are_found_within_one_frame(
    name: str, ingested: tuple[Library, list[IngestResult]], samples: dict[str, Any]
) -> None:
    lib, results = ingested
    truth = samples[name]
    scenes = lib.scenes(_by_file(results)[name].video_id).frame
    found = scenes["start"].to_list()[1:]
    assert len(found) == len(truth["cuts"])
    for got, want in zip(found, truth["cuts"], strict=True):
        assert abs(got - want) <= 1.0 / truth["fps"] + 1e-6
    # Scenes tile the video: each starts where the previous ended.
    assert scenes["start"].to_list()[1:] == scenes["end"].to_list()[:-1]


@pytest.mark.parametrize("name", SPEECH)
def test_spoken_sentences_are_recovered(
    name: str, ingested: tuple[Library, list[IngestResult]], samples: dict[str, Any]
) -> None:
    lib, results = ingested
    truth = " ".join(s["text"] for s in samples[name]["sentences"])
    heard = " ".join(lib.scenes(_by_file(results)[name].video_id).frame["text"].to_list())
    wer = jiwer.wer(_normalise(truth), _normalise(heard))
    print(f"WER {name}: {wer:.3f}")
    assert wer <= 0.35


@pytest.mark.parametrize("name", SPEECH)
def test_each_sentence_lands_in_the_scene_it_was_spoken_in(
    name: str, ingested: tuple[Library, list[IngestResult]], samples: dict[str, Any]
) -> None:
    lib, results = ingested
    scenes = lib.scenes(_by_file(results)[name].video_id).frame
    spoken = samples[name]["sentences"]
    for shot, scene_text in zip(samples[name]["shots"], scenes["text"].to_list(), strict=True):
        (said,) = [s["text"] for s in spoken if shot["start"] <= s["start"] < shot["end"]]
        closest = min(
            spoken, key=lambda s: jiwer.wer(_normalise(s["text"]), _normalise(scene_text))
        )
        assert closest["text"] == said


def test_video_without_audio_has_scenes_and_no_text(
    ingested: tuple[Library, list[IngestResult]],
) -> None:
    lib, results = ingested
    scenes = lib.scenes(_by_file(results)["silent_coins.webm"].video_id).frame
    assert scenes.height == 3
    assert scenes["text"].to_list() == ["", "", ""]


def test_keyframes_are_jpegs_of_the_scene(ingested: tuple[Library, list[IngestResult]]) -> None:
    lib, results = ingested
    for result in results:
        scenes = lib.scenes(result.video_id).frame
        for files in scenes["keyframes"].to_list():
            assert len(files) >= 1
            for rel in files:
                with Image.open(lib.path / rel) as image:
                    assert image.format == "JPEG"
                    assert image.size == (640, 360)


def test_vectors_one_per_sentence_and_per_keyframe(
    ingested: tuple[Library, list[IngestResult]], tiny_clip: dict[str, Any]
) -> None:
    lib, results = ingested
    for result in results:
        scenes = lib.scenes(result.video_id).frame
        want_text = sorted(
            f"{sid}:{k}"
            for sid, text in zip(scenes["scene_id"], scenes["text"], strict=True)
            for k in range(len(sentences(text)))
        )
        want_image = sorted(
            f"{sid}:{k}"
            for sid, files in zip(scenes["scene_id"], scenes["keyframes"], strict=True)
            for k in range(len(files))
        )
        assert sorted(lib.vectors.ids(SCENE_TEXT, *text_model(lib), result.video_id)) == want_text
        image_model = f"{tiny_clip['image_model']}__tiny-clip-random"
        assert sorted(lib.vectors.ids(SCENE_IMAGE, image_model, 64, result.video_id)) == want_image


def test_one_video_reads_as_the_list_shows_it(
    ingested: tuple[Library, list[IngestResult]],
) -> None:
    lib, _ = ingested
    videos = lib.videos()
    assert videos and [lib.video(v.video_id) for v in videos] == list(videos)
    # The records' JSON rows (the CLI's and API's) are the frame's rows, and so are scenes'.
    assert videos.to_dicts() == videos.frame.to_dicts()
    scenes = lib.scenes(videos[0].video_id)
    assert len(scenes) == 3 and scenes.to_dicts() == scenes.frame.to_dicts()
    detail = lib.scene(scenes[1].scene_id)
    assert (detail.no, detail.filename, detail.neighbours) == (
        1, videos[0].filename, (scenes[0].scene_id, scenes[2].scene_id))  # fmt: skip
    with pytest.raises(NotFound, match="no video with id 'nope'"):
        lib.video("nope")


def test_videos_frame_reports_state_progress_and_scene_counts(
    ingested: tuple[Library, list[IngestResult]],
) -> None:
    lib, _ = ingested
    frame = lib.videos().frame
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == [
        "video_id",
        "filename",
        "state",
        "stage",
        "progress",
        "duration_s",
        "scenes",
        "language",
        "language_probability",
        "error",
    ]
    # Other tests may add rows to the shared library later; the first three are the samples.
    assert frame.head(3).select("filename", "state", "progress", "scenes", "language").rows() == [
        ("space_talk.mp4", "ready", 1.0, 3, "en"),
        ("kitchen_cat.mkv", "ready", 1.0, 3, "en"),
        ("silent_coins.webm", "ready", 1.0, 3, None),  # no audio: no language
    ]
    # What the app polls every second says the same, without counting scenes.
    assert lib.states() == frame.select("video_id", "state", "stage", "progress").rows()


def test_job_rows_record_every_stage_with_models(
    ingested: tuple[Library, list[IngestResult]],
) -> None:
    lib, results = ingested
    jobs = {j.stage: j for j in lib.catalog.jobs(results[0].video_id)}
    assert set(jobs) == {
        "validating",
        "transcribing",
        "detecting_scenes",
        "keyframes",
        "ocr",
        "embedding",
        "faces",
    }
    assert all(j.progress == 1.0 and j.finished_at is not None for j in jobs.values())
    assert jobs["transcribing"].models == {"speech": "tiny.en"}
    assert jobs["embedding"].models["text"] == lib.settings.text_model
    assert jobs["ocr"].models is not None and jobs["ocr"].models["ocr"] == "ppocr-v5"


def test_same_bytes_again_is_the_same_video_with_no_work(
    ingested: tuple[Library, list[IngestResult]], copy_sample
) -> None:
    lib, results = ingested
    before = lib.videos().frame.height
    renamed = copy_sample("space_talk.mp4", "another name.mp4")
    (again,) = lib.ingest([renamed], progress=False)
    assert again.duplicate and again.state == "ready"
    assert again.video_id == results[0].video_id
    assert again.scenes == results[0].scenes
    assert lib.videos().frame.height == before


def test_a_bad_file_does_not_stop_the_batch(library: Library, copy_sample, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    good = copy_sample("silent_coins.webm")
    results = library.ingest([bad, good], progress=False)
    assert [r.state for r in results] == ["rejected", "ready"]
    assert results[0].error == f"{bad}: not a video file" or results[0].error.startswith(
        f"{bad}: not a video file"
    )
    assert not any(library.media.media_dir.glob("*.mp4")), "nothing of a rejected file is stored"
    frame = library.videos().frame
    assert (
        frame.filter(pl.col("state") == "rejected")["error"]
        .to_list()[0]
        .startswith("not a video file")
    )


def test_user_file_names_are_metadata_never_paths(library: Library, copy_sample) -> None:
    upload = copy_sample("silent_coins.webm", "3f2a.upload")  # how the app stores an upload
    hostile = "../../etc/evil\nname.webm"
    result = library.ingest_upload(upload, hostile)
    assert result.state == "ready" and result.file == hostile
    assert library.videos().frame["filename"].to_list() == ["evilname.webm"]
    rejected = upload.with_name("x.upload")
    rejected.write_text("no video")
    bad = library.ingest_upload(rejected, "holiday.mp4")
    assert bad.error is not None and bad.error.startswith("holiday.mp4: not a video file")
    assert library.videos().frame["filename"].to_list() == ["evilname.webm", "holiday.mp4"]
    stored = [p.name for p in library.media.media_dir.iterdir()]
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{64}\.webm", stored[0]), stored


def test_delete_removes_everything_of_the_video_and_nothing_else(
    library: Library, copy_sample
) -> None:
    from heimdex_lab.store.vectors import FACES

    keep, drop = library.ingest(
        [copy_sample("silent_coins.webm"), copy_sample("space_talk.mp4")], progress=False
    )
    media = library.media_path(str(drop.video_id))
    # While an ingest holds the video, delete refuses (the API answers 409 busy).
    library.catalog.set_stage(str(drop.video_id), VideoState.EMBEDDING)  # mid-ingest
    assert lease.try_claim(library.catalog, str(drop.video_id), 60)
    with pytest.raises(VideoBusy, match="is being ingested; delete it after"):
        library.delete_video(str(drop.video_id))
    assert library.videos().frame.height == 2
    library.catalog.release(str(drop.video_id), lease.holder())
    library.delete_video(str(drop.video_id))
    assert library.videos().frame["video_id"].to_list() == [keep.video_id]
    assert not media.exists() and library.media_path(str(keep.video_id)).exists()
    assert not library.media.keyframe_dir(str(drop.video_id)).exists()
    assert not (library.path / "faces" / str(drop.video_id)).exists()
    assert library.vectors.ids(SCENE_TEXT, *text_model(library), str(drop.video_id)) == []
    assert library.vectors.ids(FACES, "dlib", 128, str(drop.video_id)) == []
    assert library.catalog.segments(str(drop.video_id)) == []
    assert library.search("rocket", mode="keyword").total == 0
    assert library.scenes(str(keep.video_id)).frame.height == 3


def test_a_rejected_file_cannot_be_retried(library: Library, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    (result,) = library.ingest([bad], progress=False)
    with pytest.raises(UsageError, match="was rejected"):
        library.retry(str(result.video_id))


def test_a_media_store_failure_fails_that_file_and_the_batch_goes_on(
    library: Library, copy_sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heimdex_lab.store.media import MediaStore

    real_put = MediaStore.put

    def disk_full(self: MediaStore, source: Path, sha256: str, container: str) -> str:
        if container == "mp4":
            raise OSError(28, "No space left on device")
        return real_put(self, source, sha256, container)

    monkeypatch.setattr(MediaStore, "put", disk_full)
    full, good = library.ingest(
        [copy_sample("space_talk.mp4"), copy_sample("silent_coins.webm")], progress=False
    )
    assert (full.state, full.video_id) == ("failed", None)
    assert full.error is not None and full.error.endswith("No space left on device")
    assert good.state == "ready"
    assert library.videos().frame["filename"].to_list() == ["silent_coins.webm"]
