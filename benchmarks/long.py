"""Bounded memory on long videos: peak RSS of one ingest of 1, 10 and 60 minutes (issue 7).

    .venv/bin/python benchmarks/long.py [--minutes 10,60] [--window-s S] [--vision vit-b-32|off]
                                        [--keep]

Videos: generated into a temporary directory, one per length in ``--minutes`` plus a 1-minute
baseline always: 320x180 at 5 fps (cheap to make and to scan for cuts), H.264 (libx264, crf 30)
and AAC mono at 22.05 kHz in MP4, written frame by frame. Every 20-40 s (seeded) a new shot
starts: a flat colour or a block-noise pattern, far enough from the one before that the content
detector cuts there; the pipeline splits shots over 30 s, so scenes grow with length. The sound
is speech all the way: 48 distinct sentences spoken once by espeak-ng (data/make_samples.py's
``speak``, ~3.5 minutes held as int16, the only thing the generator keeps), then played in turn
with 0.5-1.5 s pauses. Nothing else is held: the frame of the current shot, one sentence, the
encoder's own buffers.

Ingest: each file in a fresh library by a fresh process, exactly

    python -m heimdex_lab.cli --library LIB ingest FILE --json

with HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False MLFLOW_DISABLE_TELEMETRY=true, plus
HEIMDEX_AUDIO_WINDOW_S with ``--window-s`` (100000 = the whole track at once, as before speech was
windowed) and HEIMDEX_IMAGE_CHECKPOINT with ``--vision vit-b-32`` (the default): no CLIP weights
are cached here, and without an image model the embedding stage would skip the keyframe images,
hiding what it holds; benchmarks/ingest.py's random-weight ViT-B-32 has the real one's shapes.

Measured per run: wall time from start to exit (imports and model loads included) and x realtime
(video seconds / wall seconds); CPU seconds; peak RSS = ``ru_maxrss`` of the rusage that
``os.wait4`` returns for that one pid (the kernel's high-water mark of that process and of any
child it waited for: ingest starts none). Not ``RUSAGE_CHILDREN`` of this process, which is the
maximum over every child so far and would show the 60-minute peak for all later runs. Cross-check:
VmHWM from /proc/PID/status, read every 0.2 s (the last read before exit). At each read also VmRSS
and the video's state in the catalog (read-only SQLite; the pipeline sets it as each stage
starts), giving the peak VmRSS of each stage. "start" is imports, probe, hashing and the copy
into the library; scene detection runs in a thread during "transcribing" (detect-ahead) and
"detecting_scenes" only collects it. Then, from the library: scenes, transcript segments and
words stored, and the size of the stored results (catalog.sqlite with its WAL, vectors/,
keyframes/, faces/); the library's copy of the input is listed apart.

Growth: between consecutive lengths, the difference of peak RSS and of stored results, each per
hour of video. Memory is bounded when peak RSS grows no faster than the stored results (which
are held in memory at times: the transcript for scene text, the vectors before writing). Read it
with two caveats. Each speech window costs a transient of a few hundred MB (the speech model's
features of the whole window) that lasts seconds; a video of one window (10 min or less) pays it
while the models are still loading, longer ones pay it again on top of the loaded models, so
10 -> 60 min shows a step that 20 -> 60 min does not: compare lengths of two windows or more.
And peak RSS moves by a few hundred MB from run to run (when the warm-up thread's model loads
land, what the allocator keeps): look at the per-stage peaks and the timelines for a trend.
The load average is printed at the start of each ingest: other processes on the CPU slow it
(time), not its memory. The temporary directory (videos, libraries, per-run stdout/stderr and
the 0.2 s ``rss-*.tsv`` timelines) is removed at the end unless ``--keep``.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import colorsys
import contextlib
import itertools
import json
import os
import platform
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))  # make_samples
sys.path.insert(0, str(Path(__file__).resolve().parent))  # ingest (the benchmark)

import numpy as np
from harness import ROOT, cpu_model, memory_mb
from make_samples import AUDIO_RATE, speak

FPS = 5
SIZE = (320, 180)
SHOT_S = (20.0, 40.0)
PAUSE_S = (0.5, 1.5)
BLOCK_PX = 10  # noise patterns are blocks of this many pixels: x264 keeps them sharp
AUDIO_CHUNK = 1024  # samples per AAC frame
MIN_FLAT_DISTANCE = 150  # |dH| + |dS| + |dV| (OpenCV scales) between two flat shots in a row
SEED = 7
BASELINE_MIN = 1.0
SAMPLE_S = 0.2
INGEST_ENV = {
    "HF_HUB_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}
STAGE_ORDER = (
    "start",
    "transcribing",
    "detecting_scenes",
    "keyframes",
    "embedding",
    "faces",
    "ready",
    "failed",
)

# 8 x 12 x 10 parts, picked so that the first 120 sentences all differ.
SUBJECTS = [
    "The engineer",
    "A young pilot",
    "The old fisherman",
    "Our neighbour",
    "The museum guide",
    "A careful student",
    "The city council",
    "The night nurse",
]
ACTIONS = [
    "repaired the broken radio",
    "painted the garden fence",
    "counted the migrating birds",
    "wrote a letter to the mayor",
    "found a map of the harbour",
    "baked bread for the festival",
    "planted apple trees along the road",
    "measured the depth of the lake",
    "sold tickets for the concert",
    "cleaned the windows of the library",
    "tested the new fire alarm",
    "carried boxes of books upstairs",
]
TIMES = [
    "before the storm arrived",
    "on a quiet Sunday morning",
    "near the railway station",
    "after the long winter",
    "while the children were asleep",
    "during the summer holidays",
    "at the end of the market day",
    "in the middle of the night",
    "under a bright full moon",
    "just before the bridge closed",
]
SENTENCES = 48


# Synthetic videos -----------------------------------------------------------------------------


def sentences(n: int) -> list[str]:
    s, a, t = SUBJECTS, ACTIONS, TIMES
    return [f"{s[k % len(s)]} {a[k * 5 % len(a)]} {t[k * 7 % len(t)]}." for k in range(n)]


def speech_bank(workdir: Path) -> list[np.ndarray]:
    """Each sentence spoken once (int16 mono at AUDIO_RATE)."""
    return [speak(text, workdir) for text in sentences(SENTENCES)]


class SpeechTrack:
    """The bank's sentences in turn, each followed by a pause, for as long as it is read."""

    def __init__(self, bank: list[np.ndarray], rng: np.random.Generator) -> None:
        self.bank, self.rng, self.next = bank, rng, 0
        self.pending = np.zeros(int(0.5 * AUDIO_RATE), dtype=np.int16)

    def read(self, n: int) -> np.ndarray:
        while len(self.pending) < n:
            pause = np.zeros(int(self.rng.uniform(*PAUSE_S) * AUDIO_RATE), dtype=np.int16)
            sentence = self.bank[self.next % len(self.bank)]
            self.pending = np.concatenate([self.pending, sentence, pause])
            self.next += 1
        out, self.pending = self.pending[:n], self.pending[n:]
        return out


def _hsv(rgb: tuple[float, float, float]) -> np.ndarray:
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    return np.array([h * 179, s * 255, v * 255])  # the scales the content detector compares


def shot_pictures(rng: np.random.Generator) -> Iterator[np.ndarray]:
    """One picture per shot: a block-noise pattern or a flat colour, each unlike the last."""
    w, h = SIZE
    last_flat: np.ndarray | None = None
    while True:
        if rng.random() < 0.5:
            blocks = rng.integers(0, 256, (h // BLOCK_PX, w // BLOCK_PX, 3), dtype=np.uint8)
            last_flat = None
            yield np.repeat(np.repeat(blocks, BLOCK_PX, axis=0), BLOCK_PX, axis=1)
            continue
        while True:
            rgb = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.4, 1.0), rng.uniform(0.25, 1.0))
            hsv = _hsv(rgb)
            if last_flat is None or np.abs(hsv - last_flat).sum() >= MIN_FLAT_DISTANCE:
                break
        last_flat = hsv
        yield np.full((h, w, 3), [round(c * 255) for c in rgb], dtype=np.uint8)


def write_video(path: Path, seconds: float, bank: list[np.ndarray], seed: int) -> int:
    """Write the video frame by frame, its audio muxed alongside; return the number of shots."""
    import av

    rng = np.random.default_rng(seed)
    speech = SpeechTrack(bank, rng)
    pictures = shot_pictures(rng)
    total_frames = round(seconds * FPS)
    total_samples = round(seconds * AUDIO_RATE)
    shots, shot_end, sample = 0, 0, 0
    picture = np.zeros((SIZE[1], SIZE[0], 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        video = container.add_stream(
            "libx264", rate=FPS, options={"crf": "30", "preset": "veryfast"}
        )
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        audio = container.add_stream(
            "aac", rate=AUDIO_RATE, layout="mono", options={"aac_coder": "fast"}
        )
        audio.bit_rate = 48_000
        for n in range(total_frames):
            if n >= shot_end:
                picture, shots = next(pictures), shots + 1
                shot_end = n + round(rng.uniform(*SHOT_S) * FPS)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            container.mux(video.encode(frame))
            until = total_samples if n == total_frames - 1 else round((n + 1) * AUDIO_RATE / FPS)
            while sample < until:
                piece = speech.read(min(AUDIO_CHUNK, total_samples - sample))
                aframe = av.AudioFrame.from_ndarray(
                    piece.reshape(1, -1), format="s16", layout="mono"
                )
                aframe.sample_rate, aframe.pts = AUDIO_RATE, sample
                container.mux(audio.encode(aframe))
                sample += len(piece)
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return shots


# Ingest runs ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One ingest in a fresh process, and what it stored."""

    minutes: float
    video: Path
    library: Path
    load: float
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0  # ru_maxrss from wait4
    hwm_mb: float = 0.0  # last VmHWM read
    exit_code: int = 0
    samples: list[tuple[float, float, str]] = field(default_factory=list)  # t, VmRSS MB, stage
    video_id: str | None = None
    error: str | None = None
    scenes: int = 0
    segments: int = 0
    words: int = 0
    stored_mb: dict[str, float] = field(default_factory=dict)
    media_mb: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.minutes:g} min"

    @property
    def stored_total_mb(self) -> float:
        return sum(self.stored_mb.values())

    def stage_peaks(self) -> dict[str, tuple[float, float]]:
        """Stage -> (seconds seen in it, peak VmRSS MB), from the 0.2 s samples."""
        spans: dict[str, tuple[float, float, float]] = {}  # first t, last t, peak
        for t, rss, stage in self.samples:
            first, _, peak = spans.get(stage, (t, t, 0.0))
            spans[stage] = (first, t, max(peak, rss))
        return {s: (last - first + SAMPLE_S, peak) for s, (first, last, peak) in spans.items()}


def heimdex_command(library: Path, video: Path) -> list[str]:
    return [sys.executable, "-m", "heimdex_lab.cli", "--library", str(library), "ingest",
            str(video), "--json"]  # fmt: skip


def video_state(catalog: Path) -> str | None:
    """The state of the (only) video in a library being written, or None before there is one."""
    if not catalog.exists():
        return None
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=0.05)
        ) as db:
            row = db.execute("SELECT state FROM videos LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def ingest(run: Run, env: dict[str, str], workdir: Path) -> None:
    """Run the ingest command on ``run.video``, sampling its memory until it exits."""
    name = f"{run.minutes:g}min"
    with (
        (workdir / f"stdout-{name}.json").open("wb") as out,
        (workdir / f"stderr-{name}.txt").open("wb") as err,
    ):
        proc = subprocess.Popen(
            heimdex_command(run.library, run.video), cwd=ROOT, env=env, stdout=out, stderr=err
        )
    catalog = run.library / "catalog.sqlite"
    stage = "start"
    start = time.perf_counter()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        memory = memory_mb(proc.pid)
        stage = video_state(catalog) or stage
        if "VmRSS" in memory:
            run.samples.append((time.perf_counter() - start, memory["VmRSS"], stage))
            run.hwm_mb = max(run.hwm_mb, memory["VmHWM"])
        time.sleep(SAMPLE_S)
    run.wall_s = time.perf_counter() - start
    proc.returncode = run.exit_code = os.waitstatus_to_exitcode(status)
    run.cpu_s = usage.ru_utime + usage.ru_stime
    run.peak_rss_mb = usage.ru_maxrss / 1024.0  # KiB on Linux
    (workdir / f"rss-{name}.tsv").write_text(
        "seconds\tvm_rss_mb\tstage\n"
        + "".join(f"{t:.1f}\t{rss:.1f}\t{s}\n" for t, rss, s in run.samples)
    )
    text = (workdir / f"stdout-{name}.json").read_text()
    try:
        (result,) = json.loads(text)
        run.video_id = result["video_id"]
        run.error = result["error"]
    except (ValueError, KeyError, TypeError):
        stderr = (workdir / f"stderr-{name}.txt").read_text(errors="replace")
        run.error = f"exit {run.exit_code}, no result: {stderr.strip()[-800:]}"


def tree_mb(path: Path) -> float:
    files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


def measure_library(run: Run) -> None:
    """Sizes first (opening the catalog here would start a WAL of our own), then counts."""
    lib = run.library
    run.stored_mb = {
        "catalog": sum(tree_mb(f) for f in lib.glob("catalog.sqlite*")),
        "vectors": tree_mb(lib / "vectors"),
        "keyframes": tree_mb(lib / "keyframes"),
        "faces": tree_mb(lib / "faces"),
    }
    run.media_mb = tree_mb(lib / "media")
    if run.video_id is None:
        return
    from heimdex_lab import Library

    with Library.open(lib) as library:
        run.scenes = len(library.scenes(run.video_id))
        segments = library.catalog.segments(run.video_id)
    run.segments = len(segments)
    run.words = sum(len(s.words) for s in segments)


# Output ---------------------------------------------------------------------------------------


def print_runs(runs: list[Run]) -> None:
    print(
        "\nvideo    wall s   x rt  CPU s  peak RSS MB  VmHWM MB  scenes  segments   words  "
        "stored MB (catalog + vectors + keyframes + faces)  load at start"
    )
    for r in runs:
        s = r.stored_mb
        print(
            f"{r.label:>6s}  {r.wall_s:7.1f}  {r.minutes * 60 / r.wall_s:5.1f}  {r.cpu_s:5.0f}  "
            f"{r.peak_rss_mb:11.0f}  {r.hwm_mb:8.0f}  {r.scenes:6d}  {r.segments:8d}  "
            f"{r.words:6d}  {r.stored_total_mb:7.2f} = {s['catalog']:.2f} + {s['vectors']:.2f} + "
            f"{s['keyframes']:.2f} + {s['faces']:.2f}  {r.load:13.2f}"
        )
    for r in runs:
        if r.error or r.exit_code:
            print(f"  {r.label}: exit {r.exit_code}: {r.error}")
    print("  (the library's copy of each input, not counted above: "
          + ", ".join(f"{r.label} {r.media_mb:.1f} MB" for r in runs) + ")")  # fmt: skip


def print_stages(runs: list[Run]) -> None:
    print("\npeak VmRSS MB by stage (seconds in the stage), from 0.2 s samples")
    print(f"{'stage':18s}" + "".join(f"{r.label:>18s}" for r in runs))
    seen = [s for s in STAGE_ORDER if any(s in r.stage_peaks() for r in runs)]
    for stage in seen:
        cells = []
        for r in runs:
            peaks = r.stage_peaks()
            cells.append(f"{peaks[stage][1]:8.0f} ({peaks[stage][0]:5.1f} s)" if stage in peaks
                         else "-")  # fmt: skip
        print(f"{stage:18s}" + "".join(f"{c:>18s}" for c in cells))


def print_growth(runs: list[Run]) -> None:
    print("\ngrowth per hour of video (difference between lengths, scaled to 60 min)")
    print(f"{'from -> to':16s}  {'peak RSS MB/h':>14s}  {'stored results MB/h':>20s}")
    for a, b in itertools.pairwise(runs):
        hours = (b.minutes - a.minutes) / 60.0
        rss = (b.peak_rss_mb - a.peak_rss_mb) / hours
        stored = (b.stored_total_mb - a.stored_total_mb) / hours
        print(f"{a.label + ' -> ' + b.label:16s}  {rss:+14.1f}  {stored:+20.2f}")
    if len(runs) > 2:
        a, b = runs[0], runs[-1]
        hours = (b.minutes - a.minutes) / 60.0
        print(
            f"{a.label + ' -> ' + b.label:16s}  {(b.peak_rss_mb - a.peak_rss_mb) / hours:+14.1f}"
            f"  {(b.stored_total_mb - a.stored_total_mb) / hours:+20.2f}"
        )
    print(
        "(a video of one speech window peaks lower than longer ones, and peaks move by a few "
        "hundred MB run to run: see the docstring)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="10,60", help="video lengths, comma-separated")
    parser.add_argument(
        "--window-s",
        type=float,
        default=None,
        help="HEIMDEX_AUDIO_WINDOW_S for every ingest (default: the setting's)",
    )
    parser.add_argument("--vision", choices=["vit-b-32", "off"], default="vit-b-32")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    lengths = sorted({BASELINE_MIN, *(float(m) for m in args.minutes.split(",") if m.strip())})
    work = Path(tempfile.mkdtemp(prefix="heimdex-long-"))
    try:
        env = {**os.environ, **INGEST_ENV}
        extra = {}
        if args.window_s is not None:
            extra["HEIMDEX_AUDIO_WINDOW_S"] = f"{args.window_s:g}"
        if args.vision == "vit-b-32":
            from ingest import vit_b_32_checkpoint

            extra["HEIMDEX_IMAGE_CHECKPOINT"] = str(vit_b_32_checkpoint(work))
        env.update(extra)
        inherited = {k: v for k, v in os.environ.items()
                     if k.startswith(("HEIMDEX_", "OMP_", "MKL_")) and k not in extra}  # fmt: skip
        print(
            f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; load average {os.getloadavg()[0]:.2f} "
            "at start"
        )
        shown = {**INGEST_ENV, **extra}
        command = shlex.join(heimdex_command(Path("LIB"), Path("FILE")))
        print(f"command: {' '.join(f'{k}={v}' for k, v in shown.items())} {command}")
        print(f"inherited settings: {inherited or 'none'}")
        print(f"work dir: {work}{' (kept)' if args.keep else ''}")

        bank_start = time.perf_counter()
        bank = speech_bank(work)
        bank_s = sum(len(b) for b in bank) / AUDIO_RATE
        print(
            f"\nspeech bank: {len(bank)} sentences, {bank_s:.0f} s of espeak-ng speech "
            f"in {time.perf_counter() - bank_start:.1f} s"
        )
        runs = []
        for minutes in lengths:
            video = work / f"long_{minutes:g}min.mp4"
            start = time.perf_counter()
            shots = write_video(video, minutes * 60.0, bank, SEED)
            print(
                f"generated {minutes:g} min: {shots} shots, {video.stat().st_size / 1e6:.1f} MB "
                f"in {time.perf_counter() - start:.1f} s"
            )
            run = Run(minutes, video, work / f"library-{minutes:g}min", os.getloadavg()[0])
            ingest(run, env, work)
            measure_library(run)
            print(
                f"ingested {run.label} in {run.wall_s:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB"
                + (f", exit {run.exit_code}" if run.exit_code else "")
            )
            runs.append(run)
        print_runs(runs)
        print_stages(runs)
        print_growth(runs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
