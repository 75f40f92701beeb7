"""Ingest throughput on Ray (issue 8): 8 videos, local vs 1 vs 2 Ray workers.
See docs/architecture.md §9.

    .venv/bin/python benchmarks/ray_ingest.py [--videos 8] [--configs local,ray1,ray2]

The 8 videos are the committed samples re-muxed with a distinct metadata tag each (same
pictures and sound, different bytes, so none is a duplicate of another). Every configuration
runs in a fresh process on a fresh library with the default models: "local" is the in-process
executor; "rayN" starts a local Ray instance with N CPUs, one task per CPU. Wall time counts
everything after Ray is up: worker start, model loading, the stages. Prints figures; asserts
nothing. The machine may be shared: the load average is printed with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from harness import ROOT, child_command, machine_note

SAMPLES = ROOT / "data" / "samples"


def make_copies(count: int, folder: Path) -> list[Path]:
    """``count`` videos cycling through the samples, each re-muxed with its own tag."""
    import av

    names = ["space_talk.mp4", "kitchen_cat.mkv", "silent_coins.webm"]
    copies = []
    for n in range(count):
        source = SAMPLES / names[n % len(names)]
        target = folder / f"{source.stem}_{n}{source.suffix}"
        with av.open(str(source)) as src, av.open(str(target), "w") as dst:
            dst.metadata["comment"] = f"heimdex benchmark copy {n}"
            streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
            for packet in src.demux():
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
        copies.append(target)
    return copies


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--configs", default="local,ray1,ray2")
    args = parser.parse_args()
    print(machine_note())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        videos = make_copies(args.videos, work)
        for config in args.configs.split(","):
            executor, cpus = ("local", "0") if config == "local" else ("ray", config[3:])
            before = load()
            started = time.perf_counter()
            out = subprocess.run(
                child_command("ray_ingest_run.py", executor, cpus, str(work / f"library-{config}"),
                              *map(str, videos)),
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            process_s = time.perf_counter() - started
            r = json.loads(out.stdout.strip().splitlines()[-1])
            ready = r["states"].count("ready")
            label = "local executor" if executor == "local" else f"Ray, {cpus} CPU(s)"
            print(f"\n{label}: load average {before} before, {load()} after")
            print(
                f"  {ready}/{len(videos)} ready, {r['video_s']:.1f} s of video in "
                f"{r['wall_s']:.1f} s = {60 * ready / r['wall_s']:.2f} videos/min, "
                f"{r['video_s'] / r['wall_s']:.2f}x realtime"
            )
            if executor == "ray":
                workers = ", ".join(f"{mb:.0f}" for mb in r["worker_peak_mb"])
                print(
                    f"  Ray start {r['init_s']:.1f} s (not counted); whole process "
                    f"{process_s:.1f} s"
                )
                print(
                    f"  peak RSS: workers [{workers}] MB; Ray's own processes "
                    f"{r['ray_system_rss_mb']:.0f} MB now; driver {r['driver_peak_mb']:.0f} MB"
                )
            else:
                print(f"  peak RSS {r['driver_peak_mb']:.0f} MB; whole process {process_s:.1f} s")


if __name__ == "__main__":
    main()
