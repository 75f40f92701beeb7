"""The bad-input corpus (issue 7) ingested into one library: each file is either ready with
sensible results or rejected with a message naming the file and the reason; afterwards the
library passes `heimdex check` and the video that was ready before is untouched."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from heimdex_lab import Library
from heimdex_lab.check import check
from heimdex_lab.config import GIB, Settings
from heimdex_lab.media.probe import probe
from heimdex_lab.store.vectors import SCENE_IMAGE, SCENE_TEXT
from heimdex_lab.types import IngestResult
from tests.data import bad_inputs
from tests.integration.test_ingest import text_model

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
LIMIT = 1 * GIB  # the default, set explicitly so the environment cannot move it
ONE_FRAME = 1 / 25


@dataclass
class Shared:
    lib: Library
    image_model: str
    baseline: IngestResult
    snapshot: dict[str, Any]
    outcomes: dict[str, str] = field(default_factory=dict)  # video id -> state, per case


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(lib: Library, video_id: str, image_model: str) -> dict[str, Any]:
    """Everything stored for a video, down to the bytes of its files."""
    scenes = lib.scenes(video_id).frame
    keyframes = [k for files in scenes["keyframes"].to_list() for k in files]
    return {
        "row": lib.videos().frame.filter(video_id=video_id).rows(),
        "scenes": scenes.rows(),
        "keyframes": {k: _digest(lib.path / k) for k in keyframes},
        "media": _digest(lib.media_path(video_id)),
        "text": sorted(lib.vectors.ids(SCENE_TEXT, *text_model(lib), video_id)),
        "image": sorted(lib.vectors.ids(SCENE_IMAGE, image_model, 64, video_id)),
    }


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, tiny_clip: dict[str, Any]) -> Shared:
    """One library for the whole corpus, holding a good video ingested first."""
    lib = Library.open(tmp_path_factory.mktemp("bad-inputs"), max_upload_bytes=LIMIT, **tiny_clip)
    good = tmp_path_factory.mktemp("good") / "silent_coins.webm"
    shutil.copy(SAMPLES / good.name, good)
    (baseline,) = lib.ingest([good], progress=False)
    assert baseline.state == "ready", baseline.error
    image_model = f"{tiny_clip['image_model']}__tiny-clip-random"
    snapshot = _snapshot(lib, str(baseline.video_id), image_model)
    assert snapshot["text"] == [] and len(snapshot["image"]) >= 3  # a silent video, 3 shots
    return Shared(lib, image_model, baseline, snapshot)


# What "ready with sensible results" means, per accepted input ----------------------------------


def _scenes(lib: Library, result: IngestResult) -> list[tuple[float, float]]:
    return [(s.start, s.end) for s in lib.scenes(str(result.video_id))]


def _keyframes(lib: Library, result: IngestResult) -> list[Image.Image]:
    files = [k for ks in lib.scenes(str(result.video_id)).frame["keyframes"].to_list() for k in ks]
    assert files, "every ready video has keyframes"
    images = []
    for rel in files:
        with Image.open(lib.path / rel) as image:
            assert image.format == "JPEG"
            images.append(image.convert("RGB"))
    return images


def _cut_spans(cut: float, end: float) -> Callable[[list[tuple[float, float]]], bool]:
    def match(spans: list[tuple[float, float]]) -> bool:
        return (
            len(spans) == 2
            and spans[0][0] == 0.0
            and abs(spans[0][1] - cut) <= ONE_FRAME + 1e-6
            and spans[1][0] == spans[0][1]
            and abs(spans[1][1] - end) <= 1e-3
        )

    return match


def _row(lib: Library, result: IngestResult) -> Any:
    return lib.store.videos.get(str(result.video_id))


def expect_two_shots(lib: Library, result: IngestResult, path: Path) -> None:
    """Two 1 s shots of 160x90: cut at 1.0 s, the duration the data holds, keyframes of it."""
    assert result.duration_s == 2.0
    assert _cut_spans(1.0, 2.0)(_scenes(lib, result)), _scenes(lib, result)
    assert {im.size for im in _keyframes(lib, result)} == {(160, 90)}


def expect_silent(lib: Library, result: IngestResult, path: Path) -> None:
    expect_two_shots(lib, result, path)
    assert lib.catalog.segments(str(result.video_id)) == []
    assert lib.scenes(str(result.video_id)).frame["text"].to_list() == ["", ""]
    assert lib.vectors.ids(SCENE_TEXT, *text_model(lib), str(result.video_id)) == []


def expect_true_size(lib: Library, result: IngestResult, path: Path) -> None:
    """The header's 8K claim is ignored: the stream's own 160x90 is what is stored and shown."""
    expect_two_shots(lib, result, path)
    row = _row(lib, result)
    assert (row.width, row.height) == (160, 90)


def expect_one_pixel(lib: Library, result: IngestResult, path: Path) -> None:
    """A 1x1 picture is still a video: its two shots are found, its keyframes are 1x1."""
    assert result.duration_s == 2.0
    assert _cut_spans(1.0, 2.0)(_scenes(lib, result)), _scenes(lib, result)
    assert {im.size for im in _keyframes(lib, result)} == {(1, 1)}


def expect_eight_k(lib: Library, result: IngestResult, path: Path) -> None:
    """8K is accepted and stored at its size; keyframes are bounded by keyframe_max_side."""
    assert _scenes(lib, result) == [(0.0, 0.75)]
    row = _row(lib, result)
    assert (row.width, row.height) == (7680, 4320)
    side = lib.settings.keyframe_max_side
    assert {im.size for im in _keyframes(lib, result)} == {(side, side * 9 // 16)}


def expect_vfr(lib: Library, result: IngestResult, path: Path) -> None:
    """Times come from timestamps, not frame counts: the cut at 1.0 s, the end at 3.0 s."""
    assert result.duration_s == bad_inputs.VFR_END_S
    spans = _scenes(lib, result)
    assert len(spans) == 2 and spans[-1][1] == bad_inputs.VFR_END_S, spans
    assert abs(spans[1][0] - bad_inputs.VFR_CUT_S) <= 0.02 + 1e-6, spans  # one fast frame


def expect_upright(lib: Library, result: IngestResult, path: Path) -> None:
    """A portrait phone video is shown as the phone showed it: 72x128, red on top."""
    row = _row(lib, result)
    assert (row.width, row.height) == (72, 128)
    for image in _keyframes(lib, result):
        assert image.size == (72, 128)
        top, bottom = image.getpixel((36, 10)), image.getpixel((36, 118))
        assert top[0] > 150 and top[2] < 100, f"top is not red: {top}"
        assert bottom[2] > 150 and bottom[0] < 100, f"bottom is not blue: {bottom}"


def expect_very_short(lib: Library, result: IngestResult, path: Path) -> None:
    """Shorter than the minimum scene length: one scene covering it all, one keyframe."""
    assert result.duration_s == 0.4
    assert _scenes(lib, result) == [(0.0, 0.4)]
    assert len(_keyframes(lib, result)) == 1


def expect_odd_name(lib: Library, result: IngestResult, path: Path) -> None:
    """The name is kept as metadata, control characters dropped; the file is found by path."""
    expect_two_shots(lib, result, path)
    assert result.file == str(path)
    assert _row(lib, result).filename == "holiday ünïcødé 日本day two .mp4"


def expect_name_only_metadata(lib: Library, result: IngestResult, path: Path) -> None:
    """A `../` name is neither followed nor kept: only its last part, as metadata."""
    expect_two_shots(lib, result, path)
    assert result.file == bad_inputs.DOTDOT_NAME
    assert _row(lib, result).filename == "evilname.mp4"
    assert re.fullmatch(r"[0-9a-f]{64}\.mp4", str(_row(lib, result).media_name))
    for base in (lib.media.media_dir, lib.media.keyframes_dir, lib.path, Path.cwd()):
        target = base / bad_inputs.DOTDOT_NAME
        assert not target.exists() and not target.with_name("evilname.mp4").exists()


def expect_whole_stream(lib: Library, result: IngestResult, path: Path) -> None:
    """A header saying 0.033 s is stale: the data's 4 s is the video's length; scenes,
    transcript and keyframes cover all of it; the validating job records both figures."""
    video_id = str(result.video_id)
    assert result.duration_s is not None
    assert abs(result.duration_s - bad_inputs.TALK_S) <= 0.1, result.duration_s
    spans = _scenes(lib, result)
    assert spans[0][0] == 0.0 and all(a[1] == b[0] for a, b in itertools.pairwise(spans)), spans
    assert abs(spans[-1][1] - bad_inputs.TALK_S) <= 1 / bad_inputs.TALK_FPS + 1e-6, spans
    spoken = " ".join(seg.text for seg in lib.catalog.segments(video_id)).lower()
    assert "library" in spoken and "monday" in spoken, spoken
    assert "monday" in " ".join(lib.scenes(video_id).frame["text"].to_list()).lower()
    assert {im.size for im in _keyframes(lib, result)} == {(640, 360)}
    jobs = {j.stage: j for j in lib.catalog.jobs(video_id)}
    assert jobs["validating"].models == {
        "duration_header_s": bad_inputs.SHORT_CLAIM_S,
        "duration_stream_s": result.duration_s,
    }


# The corpus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    rejected: str | None = None  # the reason's expected words; None = accepted
    expect: Callable[[Library, IngestResult, Path], None] | None = None
    display_name: str | None = None  # ingested as an upload under this user's name
    unprivileged: bool = False  # file modes apply even when the tests run as root


CASES = {
    "zero-byte file": Case(bad_inputs.empty, rejected="empty file (0 bytes)"),
    "text renamed .mp4": Case(bad_inputs.text_as_mp4, rejected="not a video file"),
    "truncated MP4 (moov missing)": Case(
        bad_inputs.truncated_mp4,
        rejected="not a video file (truncated MP4/MOV: the index (moov box) is missing",
    ),
    "truncated MKV": Case(
        bad_inputs.truncated_mkv,
        rejected="truncated or damaged file: the data ends at 4.72 s but the header says 14.09 s",
    ),
    "MKV without duration or index (live recording)": Case(
        bad_inputs.live_mkv, expect=expect_two_shots
    ),
    "MKV header claims 3 h": Case(
        bad_inputs.huge_duration_mkv,
        rejected="truncated or damaged file: the data ends at 2.00 s but the header says 3.00 h",
    ),
    "MKV header says 0.033 s (stale)": Case(
        bad_inputs.short_duration_mkv, expect=expect_whole_stream
    ),
    "MP4 headers claim 3 h": Case(bad_inputs.huge_duration_mp4, expect=expect_two_shots),
    "MP4 headers claim 8K": Case(bad_inputs.size_lie_mp4, expect=expect_true_size),
    "audio-only file": Case(bad_inputs.audio_only, rejected="no video stream (audio-only file)"),
    "audio-only file with cover art": Case(
        bad_inputs.audio_with_cover,
        rejected="no video stream (audio-only file: its one picture is cover art)",
    ),
    "video without audio": Case(bad_inputs.no_audio, expect=expect_silent),
    "1x1 px": Case(bad_inputs.one_pixel, expect=expect_one_pixel),
    "8K stream": Case(bad_inputs.eight_k, expect=expect_eight_k),
    "variable frame rate": Case(bad_inputs.variable_frame_rate, expect=expect_vfr),
    "rotated phone video": Case(bad_inputs.rotated_phone, expect=expect_upright),
    "0.4 s clip": Case(bad_inputs.very_short, expect=expect_very_short),
    "over the size limit (sparse)": Case(
        functools.partial(bad_inputs.over_size_limit, limit=LIMIT),
        rejected=f"file is {LIMIT + 1:,} bytes, over the limit of {LIMIT:,} bytes",
    ),
    "unreadable (mode 000)": Case(
        bad_inputs.unreadable,
        rejected="cannot read the file: permission denied",
        unprivileged=True,
    ),
    "spaces, unicode, newline in the name": Case(bad_inputs.odd_file_name, expect=expect_odd_name),
    "../ in the user's name": Case(
        bad_inputs.upload_with_dotdot_name,
        expect=expect_name_only_metadata,
        display_name=bad_inputs.DOTDOT_NAME,
    ),
    "directory passed as a file": Case(
        bad_inputs.directory, rejected="not a regular file: it is a directory"
    ),
    "undecodable stream": Case(
        bad_inputs.garbage_stream, rejected="the first video frame cannot be decoded"
    ),
    "animated GIF": Case(bad_inputs.gif, rejected="unsupported container 'gif'"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_input_is_ready_or_rejected_with_the_reason(
    case: Case, shared: Shared, tmp_path: Path
) -> None:
    lib = shared.lib
    path = case.make(tmp_path)
    media_before = sorted(p.name for p in lib.media.media_dir.iterdir())
    keyframes_before = sorted(p.name for p in lib.media.keyframes_dir.iterdir())
    drop_override = (
        bad_inputs.without_permission_override() if case.unprivileged else contextlib.nullcontext()
    )
    with drop_override:
        if case.display_name is None:
            (result,) = lib.ingest([path], progress=False)
        else:
            result = lib.ingest_upload(path, case.display_name)
    assert result.video_id is not None
    shared.outcomes[result.video_id] = result.state
    shown = case.display_name or str(path)

    if case.rejected is not None:
        assert result.state == "rejected", f"accepted: {result}"
        assert result.error is not None and result.error.startswith(f"{shown}: {case.rejected}"), (
            result.error
        )
        row = _row(lib, result)
        assert row.error == result.error.removeprefix(f"{shown}: ")
        assert row.media_name is None and row.sha256 is None
        assert sorted(p.name for p in lib.media.media_dir.iterdir()) == media_before
        assert sorted(p.name for p in lib.media.keyframes_dir.iterdir()) == keyframes_before
    else:
        assert result.state == "ready" and result.error is None, result.error
        assert not result.duplicate
        assert case.expect is not None
        case.expect(lib, result, path)


def test_a_header_shorter_than_the_data_is_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Probing trusts the data over a stale header, and says so, naming the file."""
    path = bad_inputs.short_duration_mkv(tmp_path)
    with caplog.at_level(logging.WARNING, logger="heimdex_lab.media.probe"):
        info = probe(path, Settings(max_upload_bytes=LIMIT))
    assert info.header_duration_s == bad_inputs.SHORT_CLAIM_S
    assert info.stream_duration_s == info.duration_s
    assert abs(info.duration_s - bad_inputs.TALK_S) <= 0.1, info.duration_s
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith(f"{path}: the header says the video is 0.03 s long but its data "
                              f"runs to {info.duration_s:.2f} s"), warning  # fmt: skip


def test_afterwards_the_library_is_consistent_and_the_earlier_video_untouched(
    shared: Shared,
) -> None:
    lib = shared.lib
    assert check(lib) == {"ok": True, "problems": []}
    assert _snapshot(lib, str(shared.baseline.video_id), shared.image_model) == shared.snapshot
    states = dict(lib.videos().frame.select("video_id", "state").rows())
    assert states == {str(shared.baseline.video_id): "ready", **shared.outcomes}
