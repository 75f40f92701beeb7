"""Faces: detections + descriptors per second on 2 cores, and the faces stage's share of ingest.

    .venv/bin/python benchmarks/faces.py

Detect + embed on the sample keyframes and on the enrolment photos (timed over repeats), then the
wall time of each ingest stage for the sample videos, so the added x-realtime cost of faces shows.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from heimdex_lab import Library
from heimdex_lab.embed.face import face_backend
from heimdex_lab.ingest.faces import usable

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [ROOT / "data" / "samples" / n
           for n in ("space_talk.mp4", "kitchen_cat.mkv", "silent_coins.webm")]  # fmt: skip


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library.open(Path(tmp) / "library")
        results = lib.ingest(SAMPLES, progress=False)
        backend = face_backend(lib.settings)
        frames = [
            np.asarray(Image.open(lib.path / rel).convert("RGB"))
            for r in results
            for files in lib.scenes(str(r.video_id)).frame["keyframes"]
            for rel in files
        ]
        repeats = 5
        faces = 0
        start = time.perf_counter()
        for _ in range(repeats):
            for frame in frames:
                boxes = usable(backend.detect(frame), lib.settings)
                faces += len(backend.embed(frame, boxes))
        seconds = time.perf_counter() - start
        print(
            f"\n{len(frames)} keyframes ({frames[0].shape[1]}x{frames[0].shape[0]}) x {repeats}: "
            f"{len(frames) * repeats / seconds:.1f} keyframes/s, "
            f"{faces / seconds:.1f} faces/s detected+embedded ({faces // repeats} faces per pass)"
        )
        total_video = sum(r.duration_s or 0 for r in results)
        stage_s: dict[str, float] = {}
        for r in results:
            for job in lib.catalog.jobs(str(r.video_id)):
                if job.finished_at and job.started_at:
                    seconds = (job.finished_at - job.started_at).total_seconds()
                    stage_s[job.stage] = stage_s.get(job.stage, 0.0) + seconds
        all_s = sum(stage_s.values())
        print(
            f"\nsample ingest: {total_video:.1f} s of video, stages {all_s:.2f} s in all "
            f"({total_video / all_s:.1f}x realtime; first video pays model loading)"
        )
        for stage, seconds in stage_s.items():
            print(f"  {stage:18s} {seconds:6.2f} s")
        faces_s = stage_s.get("faces", 0.0)
        print(
            f"faces stage: {faces_s:.2f} s = {100 * faces_s / all_s:.0f}% of ingest; "
            f"without it {total_video / (all_s - faces_s):.1f}x realtime"
        )


if __name__ == "__main__":
    main()
