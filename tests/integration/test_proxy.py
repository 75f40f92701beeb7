"""Browser-playable proxies: made at ingest where needed, served, checked and deleted."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from heimdex_lab import Library
from heimdex_lab.check import check
from heimdex_lab.errors import HeimdexError
from heimdex_lab.media.decode import frames_at
from heimdex_lab.media.proxy import (
    FORMATS,
    StreamFacts,
    is_playable,
    make_proxy,
    needs_proxy,
    proxy_size,
    stream_facts,
)
from heimdex_lab.store.media import PROXY_EXTS
from heimdex_lab.types import IngestResult

FPS = 25
SHOT_S = 2.0
# Flat colours a content detector cuts between; a white square moves 12 px a frame, so two
# pictures one frame apart differ, and a proxy off by a frame fails the comparison.
SHOTS = ((220, 30, 30), (30, 60, 220), (230, 220, 40))  # red, blue, yellow
W, H, SQUARE, STEP = 320, 240, 32, 12
MP4, MKV = "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"


def _picture(i: int) -> np.ndarray:
    image = np.empty((H, W, 3), dtype=np.uint8)
    image[:] = SHOTS[min(int(i / FPS / SHOT_S), len(SHOTS) - 1)]
    x = (i * STEP) % (W - SQUARE)
    image[H // 2 - SQUARE // 2 : H // 2 + SQUARE // 2, x : x + SQUARE] = 255
    return image


def _avi(folder: Path, name: str = "camcorder.avi") -> Path:
    """An AVI (MPEG-4 Part 2 + MP3) of three 2 s shots: Chromium does not open AVI at all."""
    path = folder / name
    frames = round(len(SHOTS) * SHOT_S * FPS)
    with av.open(str(path), "w", format="avi") as out:
        video = out.add_stream("mpeg4", rate=FPS)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.options = {"qscale": "2"}
        audio = out.add_stream("libmp3lame", rate=44_100, layout="mono")
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_picture(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(frames * 44_100 // FPS) / 44_100)
        for start in range(0, len(tone), 1152):
            chunk = tone[start : start + 1152].astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44_100, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def _duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def _frame(path: Path, t: float) -> np.ndarray:
    ((_, image),) = frames_at(path, [t], max_side=W)
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.fixture()
def ingested_avi(library: Library, tmp_path: Path) -> tuple[Library, IngestResult, Path]:
    source = _avi(tmp_path)
    (result,) = library.ingest([source], progress=False)
    return library, result, source


# The rule --------------------------------------------------------------------------------------

# Measured in Chromium 156: load, seek (pixel at t), play (see heimdex_lab/media/proxy.py).
MEASURED = [
    ("mp4 h264 aac", StreamFacts(MP4, "h264", "yuv420p", ("aac",)), True),
    ("mp4 h264 silent", StreamFacts(MP4, "h264", "yuv420p", ()), True),
    ("mov h264 pcm", StreamFacts(MP4, "h264", "yuv420p", ("pcm_s16le",)), True),
    ("mkv h264 mp3", StreamFacts(MKV, "h264", "yuv420p", ("mp3",)), True),
    ("mkv h264 flac", StreamFacts(MKV, "h264", "yuv420p", ("flac",)), True),
    ("webm vp9 opus", StreamFacts(MKV, "vp9", "yuv420p", ("opus",)), True),
    ("webm vp8 vorbis", StreamFacts(MKV, "vp8", "yuv420p", ("vorbis",)), True),
    ("webm av1 opus", StreamFacts(MKV, "av1", "yuv420p", ("opus",)), True),
    ("avi h264 mp3: AVI never opens", StreamFacts("avi", "h264", "yuv420p", ("mp3",)), False),
    ("mp4 hevc: sound only", StreamFacts(MP4, "hevc", "yuv420p", ("aac",)), False),
    ("mov mpeg4: sound only", StreamFacts(MP4, "mpeg4", "yuv420p", ("aac",)), False),
    ("mkv mpeg2: sound only", StreamFacts(MKV, "mpeg2video", "yuv420p", ("mp3",)), False),
    ("mov prores: sound only", StreamFacts(MP4, "prores", "yuv422p10le", ("pcm_s16le",)), False),
    ("mkv h264 ac3: picture only", StreamFacts(MKV, "h264", "yuv420p", ("ac3",)), False),
    ("mov h264 alac: picture only", StreamFacts(MP4, "h264", "yuv420p", ("alac",)), False),
    ("mp4 h264 10-bit: not portable", StreamFacts(MP4, "h264", "yuv420p10le", ("aac",)), False),
]


@pytest.mark.parametrize(("facts", "playable"), [m[1:] for m in MEASURED],
                         ids=[m[0] for m in MEASURED])  # fmt: skip
def test_the_rule_follows_what_chromium_plays(facts: StreamFacts, playable: bool) -> None:
    assert is_playable(facts) is playable


@pytest.mark.parametrize(
    ("size", "sar", "want"),
    [
        ((640, 360), None, (640, 360)),  # small enough: untouched
        ((1920, 1080), None, (1280, 720)),
        ((1080, 1920), None, (720, 1280)),  # portrait: the short side is capped
        ((720, 576), Fraction(16, 15), (768, 576)),  # anamorphic PAL: square pixels
        ((321, 241), None, (320, 240)),  # 4:2:0 needs even sides
    ],
)
def test_proxy_size(size: tuple[int, int], sar: Fraction | None, want: tuple[int, int]) -> None:
    assert proxy_size(*size, sar, 720) == want


def test_every_proxy_format_has_a_name_in_the_store() -> None:
    assert {f.ext for f in FORMATS} <= set(PROXY_EXTS)


# Ingest ----------------------------------------------------------------------------------------


def test_an_avi_gets_a_proxy_that_plays_from_the_scene_start(
    ingested_avi: tuple[Library, IngestResult, Path],
) -> None:
    lib, result, source = ingested_avi
    assert (result.state, result.error) == ("ready", None)
    (row,) = lib.store.videos.all()
    stored = lib.media.path(str(row.media_name))
    proxy = lib.media.proxy_path(str(row.media_name))
    assert proxy == lib.media.media_dir / f"{row.sha256}.proxy.mp4"
    assert lib.media_path(str(result.video_id)) == proxy
    assert needs_proxy(stored) and not needs_proxy(proxy)
    assert stream_facts(proxy) == StreamFacts(MP4, "h264", "yuv420p", ("aac",))
    with open(proxy, "rb") as fh:  # faststart: the index before the data, for quick playback
        head = fh.read(4096)
    assert b"moov" in head and b"mdat" not in head
    assert abs(_duration(proxy) - _duration(source)) <= 0.1

    starts = lib.scenes(str(result.video_id)).frame["start"].to_list()
    assert starts == pytest.approx([0.0, 2.0, 4.0], abs=1 / FPS + 1e-6)  # cut ± 1 frame
    for t in [*starts, 3.0, 5.5]:
        want = _frame(stored, t)
        got = _frame(proxy, t)
        off = np.abs(got - want).mean()
        assert off < 0.5, f"the proxy shows another picture at {t} s"
        # The neighbouring frame (its square is 12 px away) is far less alike.
        assert np.abs(got - _frame(stored, t + 1 / FPS)).mean() > 4 * off + 0.5


def test_a_playable_video_is_served_as_stored(ingested: tuple[Library, list[IngestResult]]) -> None:
    lib, results = ingested
    for result in results:  # MP4 H.264/AAC, MKV H.264/AAC, WebM VP9
        row = lib.store.videos.get(str(result.video_id))
        assert lib.media.proxy_path(str(row.media_name)) is None
        assert lib.media_path(str(result.video_id)) == lib.media.path(str(row.media_name))


def test_deleting_the_video_deletes_its_proxy(
    ingested_avi: tuple[Library, IngestResult, Path],
) -> None:
    lib, result, _ = ingested_avi
    proxy = lib.media_path(str(result.video_id))
    assert proxy.name.endswith(".proxy.mp4")
    lib.delete_video(str(result.video_id))
    assert not proxy.exists()
    assert list(lib.media.media_dir.iterdir()) == []


def test_a_failed_proxy_fails_the_video_and_a_retry_finishes_it(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import heimdex_lab.ingest.pipeline as pipeline

    def disk_full(source: Path, target: Path, *args: object) -> None:
        raise HeimdexError(f"cannot make a browser-playable copy of {source}: No space left")

    monkeypatch.setattr(pipeline, "make_proxy", disk_full)
    source = _avi(tmp_path)
    (failed,) = library.ingest([source], progress=False)
    assert (failed.state, failed.stage) == ("failed", "keyframes")
    assert failed.error is not None
    assert failed.error.startswith(f"{source}: keyframes: cannot make a browser-playable copy")
    assert failed.error.endswith("No space left")
    assert [p.suffix for p in library.media.media_dir.iterdir()] == [".avi"]
    monkeypatch.undo()

    result = library.retry(str(failed.video_id))
    assert (result.state, result.error) == ("ready", None)
    assert library.media_path(str(result.video_id)).name.endswith(".proxy.mp4")


# The transcode itself --------------------------------------------------------------------------


class Interrupt(BaseException):
    """Stands for Ctrl-C or a crash mid-transcode."""


def test_an_interrupted_transcode_leaves_nothing_behind(tmp_path: Path) -> None:
    source = _avi(tmp_path)
    out_dir = tmp_path / "media"
    out_dir.mkdir()
    target = out_dir / "x.proxy.mp4"

    def crash(fraction: float) -> None:
        if fraction > 0.3:
            raise Interrupt

    with pytest.raises(Interrupt):
        make_proxy(source, target, crash)
    assert list(out_dir.iterdir()) == []


def test_a_file_that_cannot_be_transcoded_is_named_in_the_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF" + bytes(2000))
    with pytest.raises(HeimdexError, match=r"broken\.avi"):
        make_proxy(broken, tmp_path / "x.proxy.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["broken.avi"]


def test_a_video_without_sound_gets_a_proxy_without_sound(tmp_path: Path) -> None:
    path = tmp_path / "silent.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        video = out.add_stream("mpeg4", rate=FPS)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        for i in range(FPS):
            frame = av.VideoFrame.from_ndarray(_picture(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    assert needs_proxy(path)
    target = tmp_path / "silent.proxy.mp4"
    make_proxy(path, target)
    assert stream_facts(target) == StreamFacts(MP4, "h264", "yuv420p", ())


# heimdex check ---------------------------------------------------------------------------------


def test_check_finds_a_missing_proxy_and_an_orphan_one(
    ingested_avi: tuple[Library, IngestResult, Path],
) -> None:
    lib, result, _ = ingested_avi
    assert check(lib) == {"ok": True, "problems": []}

    proxy = lib.media_path(str(result.video_id))
    proxy.unlink()  # a library from before proxies, or a file deleted by hand
    orphan = lib.media.media_dir / ("0" * 64 + ".proxy.mp4")
    orphan.write_bytes(b"left behind")
    report = check(lib)
    assert not report["ok"]
    assert sorted((p["kind"], p["video_id"]) for p in report["problems"]) == [
        ("missing_proxy", result.video_id), ("orphan_media", None)]  # fmt: skip

    report = check(lib, repair=True)
    assert all(p["repaired"] for p in report["problems"])
    assert proxy.is_file() and not orphan.exists()
    assert lib.media_path(str(result.video_id)) == proxy
    assert check(lib) == {"ok": True, "problems": []}
