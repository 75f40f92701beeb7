"""Validation (docs/architecture.md §7): a rejection names the file and reason; nothing stored."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from heimdex_lab.config import Settings
from heimdex_lab.errors import InvalidVideo
from heimdex_lab.media.probe import probe
from tests.data import bad_inputs

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def rejection(path: Path, settings: Settings | None = None) -> str:
    with pytest.raises(InvalidVideo) as info:
        probe(path, settings or Settings())
    assert str(path) in str(info.value), "the message must name the file"
    return info.value.reason


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (bad_inputs.empty, "empty file"),
        (bad_inputs.text_as_mp4, "not a video file"),
        (bad_inputs.truncated_mp4, "not a video file"),
        (bad_inputs.audio_only, "no video stream"),
        (bad_inputs.garbage_stream, "first video frame cannot be decoded"),
        (bad_inputs.gif, "unsupported container 'gif'"),
    ],
)
def test_broken_files_are_rejected_with_the_reason(make, reason: str, tmp_path: Path) -> None:
    assert reason in rejection(make(tmp_path))


def test_missing_file(tmp_path: Path) -> None:
    assert rejection(tmp_path / "nope.mp4") == "file not found"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    assert "directory" in rejection(tmp_path)


def test_fifo_is_rejected_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    assert "named pipe" in rejection(fifo)


def test_device_is_rejected_without_reading() -> None:
    assert "device" in rejection(Path("/dev/zero"))


def test_size_limit_is_inclusive(tmp_path: Path) -> None:
    path = SAMPLES / "space_talk.mp4"
    size = path.stat().st_size
    assert probe(path, Settings(max_upload_bytes=size)).size_bytes == size
    assert "over the limit" in rejection(path, Settings(max_upload_bytes=size - 1))


def test_duration_limit(tmp_path: Path) -> None:
    assert "over the limit" in rejection(SAMPLES / "space_talk.mp4", Settings(max_duration_s=10))


def test_symlink_counts_as_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.mp4"
    link.symlink_to(SAMPLES / "space_talk.mp4")
    assert probe(link, Settings()).container == "mp4"
    dangling = tmp_path / "dangling.mp4"
    dangling.symlink_to(tmp_path / "gone.mp4")
    assert rejection(dangling) == "file not found"


@pytest.mark.parametrize(
    ("name", "container", "has_audio"),
    [
        ("space_talk.mp4", "mp4", True),
        ("kitchen_cat.mkv", "mkv", True),
        ("silent_coins.webm", "webm", False),
    ],
)
def test_accepted_containers_are_recognised_by_their_bytes(
    name: str, container: str, has_audio: bool, tmp_path: Path
) -> None:
    renamed = tmp_path / "clip.bin"  # the name says nothing; the bytes decide
    shutil.copy(SAMPLES / name, renamed)
    info = probe(renamed, Settings())
    assert (info.container, info.has_audio, info.width, info.height) == (
        container,
        has_audio,
        640,
        360,
    )
    assert info.fps == 25.0
