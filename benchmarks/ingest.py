"""Ingest speed and memory: wall time per stage, x realtime, peak RSS (issue 3).
See docs/architecture.md §2.

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
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, child_command, machine_note


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
        print(machine_note())
        for name, env in configs.items():
            library = work / f"library-{name}"
            out = subprocess.run(
                child_command("ingest_runs.py", str(library), *map(str, videos)),
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
