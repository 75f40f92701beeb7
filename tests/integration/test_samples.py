"""The sample generator makes what its ground truth says."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from heimdex_lab.config import Settings
from heimdex_lab.media.probe import probe

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "data" / "make_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_samples"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generated_video_matches_its_ground_truth(make_samples, tmp_path: Path) -> None:
    spec = make_samples.VideoSpec(
        "two_shots.mp4",
        [
            make_samples.Shot("coffee", "Coffee is ready.", "coffee"),
            make_samples.Shot("rocket", None, "rocket", min_s=2.0),
        ],
    )
    truth = make_samples.render(spec, tmp_path)
    info = probe(tmp_path / "two_shots.mp4", Settings())
    assert info.has_audio and info.container == "mp4"
    assert abs(info.duration_s - truth["duration_s"]) < 0.1
    assert truth["cuts"] == [truth["shots"][1]["start"]]
    (sentence,) = truth["sentences"]
    assert truth["shots"][0]["start"] < sentence["start"] < sentence["end"] < truth["cuts"][0]


def test_committed_samples_match_samples_json() -> None:
    truth = json.loads((ROOT / "data" / "samples" / "samples.json").read_text())
    total = 0
    for video in truth["videos"]:
        path = ROOT / "data" / "samples" / video["file"]
        info = probe(path, Settings())
        total += info.size_bytes
        assert abs(info.duration_s - video["duration_s"]) < 0.1
        assert info.has_audio == video["has_audio"]
    assert total <= 2 * 1024 * 1024
