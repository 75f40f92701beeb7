"""One configuration of benchmarks/ingest.py, in its own process.

    python benchmarks/children/ingest_runs.py LIBRARY VIDEO...

Ingests each video in turn (the first pays for loading the models, the next ones do not) and
prints one JSON line: import time, per run the state, scenes, seconds and stage times, and the
process's peak RSS; with OCR on, the engine's seconds per keyframe with and without text.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def ocr_frames(lib: Any, scenes: list[Any]) -> dict[str, list[float]]:
    """The OCR engine again on each keyframe, timed alone: with and without text."""
    out: dict[str, list[float]] = {"text": [], "no text": []}
    if not lib.settings.ocr:
        return out
    import numpy as np
    from PIL import Image

    from heimdex_lab.ingest.ocr import ocr_engine

    engine = ocr_engine(lib.settings.cpu_threads)
    for scene in scenes:
        for rel in scene.keyframes:
            with Image.open(lib.settings.library / rel) as im:
                bgr = np.asarray(im.convert("RGB"))[:, :, ::-1].copy()
            t = time.perf_counter()
            found = engine.read(bgr)
            out["text" if found else "no text"].append(time.perf_counter() - t)
    return out


def main() -> None:
    t0 = time.perf_counter()
    from heimdex_lab import Library

    lib = Library.open(sys.argv[1])
    t1 = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for video in sys.argv[2:]:
        start = time.perf_counter()
        (result,) = lib.ingest([Path(video)], progress=False)
        seconds = time.perf_counter() - start
        assert result.video_id is not None, f"{video} was rejected: {result.error}"
        jobs = {j.stage: (j.finished_at - j.started_at).total_seconds()
                for j in lib.catalog.jobs(result.video_id)
                if j.finished_at is not None and j.started_at is not None}  # fmt: skip
        scenes = lib.store.scenes.of_video(result.video_id)
        keyframes = sum([len(scene.keyframes) for scene in scenes])
        runs.append({"state": result.state, "scenes": result.scenes,
                     "duration_s": result.duration_s, "ingest_s": seconds, "stages": jobs,
                     "keyframes": keyframes, "ocr_frames": ocr_frames(lib, scenes)})  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"import_s": t1 - t0, "runs": runs, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
