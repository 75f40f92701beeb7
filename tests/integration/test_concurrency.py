"""Several processes on one library: two CLI ingests and a long-lived searcher at once.

The searcher is this test process with its index already loaded, as a running `heimdex serve`
would be: it must see the other processes' videos without a restart, and nothing is lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from heimdex_lab import Library
from heimdex_lab.check import check

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def _ingest(library: Path, sample: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "heimdex_lab.cli", "--library", str(library), "ingest",
         str(SAMPLES / sample), "--json"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), env={**os.environ},
    )  # fmt: skip


def test_two_ingests_and_a_searcher_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "library"
    lib = Library.open(path)
    (talk,) = lib.ingest([SAMPLES / "space_talk.mp4"], progress=False)
    assert lib.search("the rocket launch was delayed", mode="text").hits[0].video_id == (
        talk.video_id
    )  # the index is loaded in this process now

    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [
        _ingest(path, "kitchen_cat.mkv", logs[0]),
        _ingest(path, "silent_coins.webm", logs[1]),
    ]
    searches, errors = 0, []
    while any(p.poll() is None for p in procs):
        try:
            lib.search("fresh coffee in the kitchen", mode="hybrid")
            searches += 1
        except Exception as exc:  # any error here is what users would see
            errors.append(repr(exc))
        time.sleep(0.05)
    stderr = "\n".join(log.read_text() for log in logs)
    assert [p.returncode for p in procs] == [0, 0], stderr
    assert "locked" not in stderr and "Traceback" not in stderr
    assert errors == [] and searches > 0

    videos = lib.videos().frame
    assert sorted(videos["filename"]) == ["kitchen_cat.mkv", "silent_coins.webm", "space_talk.mp4"]
    assert set(videos["state"]) == {"ready"}
    # The long-lived process finds the new video by meaning (its vectors), not only by words.
    hit = lib.search("coffee is made each morning", mode="text").hits[0]
    assert hit.filename == "kitchen_cat.mkv"
    assert check(lib) == {"ok": True, "problems": []}
