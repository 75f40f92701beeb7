"""Ingest speed and memory: wall time per stage, x realtime, peak RSS (DESIGN.md §2, issue 3).

    .venv/bin/python benchmarks/ingest.py [--seconds 60] [--vision off|vit-b-32|both] [--ocr-off]

Generates a speech video with data/make_samples.py (a talk: every second shot is a slide), then
ingests it in a fresh process per configuration (so peak RSS and model loading are measured
honestly). "vit-b-32" builds a ViT-B-32 open_clip model with random weights and saves it as a
local checkpoint: the same compute as the real weights. "vision off, ocr off" runs again with the
on-screen text stage off (``--ocr-off``); the ocr stage's seconds per keyframe are printed, and
the engine's seconds per frame with and without text. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from heimdex_lab import Library
lib = Library.open(sys.argv[1])
t1 = time.perf_counter()
runs = []
for video in sys.argv[2:]:  # the first pays for loading the models, the next ones do not
    start = time.perf_counter()
    (result,) = lib.ingest([Path(video)], progress=False)
    seconds = time.perf_counter() - start
    jobs = {j.stage: (j.finished_at - j.started_at).total_seconds()
            for j in lib.catalog.jobs(result.video_id)}
    keyframes = sum(len(s.keyframes) for s in lib.catalog.scenes(lib.user, result.video_id))
    ocr_frames = {"text": [], "no text": []}
    if lib.settings.ocr:  # the engine again on each keyframe, timed alone: with and without text
        from PIL import Image
        import numpy as np
        from heimdex_lab.ingest.ocr import ocr_engine
        engine = ocr_engine(lib.settings.cpu_threads)
        for scene in lib.catalog.scenes(lib.user, result.video_id):
            for rel in scene.keyframes:
                with Image.open(lib.settings.library / rel) as im:
                    bgr = np.asarray(im.convert("RGB"))[:, :, ::-1].copy()
                t = time.perf_counter()
                found = engine.read(bgr)
                ocr_frames["text" if found else "no text"].append(time.perf_counter() - t)
    runs.append({"state": result.state, "scenes": result.scenes, "duration_s": result.duration_s,
                 "ingest_s": seconds, "stages": jobs, "keyframes": keyframes,
                 "ocr_frames": ocr_frames})
print(json.dumps({"import_s": t1 - t0, "runs": runs,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def vit_b_32_checkpoint(folder: Path) -> Path:
    import open_clip
    import torch

    model = open_clip.create_model("ViT-B-32", pretrained=None)
    path = folder / "vit-b-32-random.pt"
    torch.save({"state_dict": model.state_dict()}, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--vision", choices=["off", "vit-b-32", "both"], default="both")
    parser.add_argument("--ocr-off", action="store_true", help="also run with the ocr stage off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Two different videos of the same length: the first is ingested cold (models load),
        # the second warm, as in a batch.
        videos = [work / f"speech_{int(args.seconds)}s_{n}.mp4" for n in (1, 2)]
        for n, video in enumerate(videos):
            subprocess.run(
                [sys.executable, str(ROOT / "data" / "make_samples.py"), "--long",
                 str(args.seconds), "--offset", str(n * 5), "--out", str(video), "--slides"],
                check=True,
            )  # fmt: skip
        configs: dict[str, dict[str, str]] = {"off": {}, "vit-b-32": {}}
        if args.vision in ("vit-b-32", "both"):
            configs["vit-b-32"] = {"HEIMDEX_IMAGE_CHECKPOINT": str(vit_b_32_checkpoint(work))}
        if args.vision != "both":
            configs = {args.vision: configs[args.vision]}
        if args.ocr_off:
            configs["off, ocr off"] = {"HEIMDEX_OCR": "false"}
        print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}")
        for name, env in configs.items():
            library = work / f"library-{name}"
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(library), *map(str, videos)],
                env={**os.environ, **env},
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"\nvision {name}: peak RSS {r['peak_rss_mb']:.0f} MB; "
                f"import {r['import_s']:.2f} s (not counted)"
            )
            for label, run in zip(("cold (models load)", "warm (batch)"), r["runs"], strict=True):
                speed = run["duration_s"] / run["ingest_s"]
                print(
                    f"  {label}: {run['state']}, {run['scenes']} scenes, "
                    f"{run['duration_s']:.1f} s of video in {run['ingest_s']:.2f} s "
                    f"= {speed:.1f}x realtime"
                )
                for stage, seconds in run["stages"].items():
                    print(f"    {stage:18s} {seconds:7.2f} s")
                if run["keyframes"] and "ocr" in run["stages"]:
                    per = run["stages"]["ocr"] / run["keyframes"]
                    print(f"    ocr per keyframe   {per:7.3f} s ({run['keyframes']} keyframes)")
                    for kind, times in run["ocr_frames"].items():
                        if times:
                            mean = sum(times) / len(times)
                            print(f"    ocr per read frame {kind:7s} {mean:.3f} s ({len(times)})")


if __name__ == "__main__":
    main()
