"""Cold start: what a new process pays before and around its work (issue "Start fast").

    .venv/bin/python benchmarks/cold.py [--scenes 10000] [--runs 5] [--seconds 30] [--keep DIR]
                                        [--only 3]

Prints three figures, each from new processes, as wall time and as CPU time (user + system of
the child: on a shared machine the wall time grows with the load, the CPU time far less):
1. ``heimdex search "…" --json`` on a library of ``--scenes`` synthetic scenes (built through
   the real storage layer by benchmarks/search.py's builder), p50 of ``--runs`` queries, after
   the first search following a write (timed apart: it copies the vectors out of Chroma for
   exact kNN, store/vectors.py), and where one search's time goes, phase by phase;
2. ``import heimdex_lab`` and ``heimdex --help``, p50 of ``--runs``;
3. ``heimdex ingest`` of one ``--seconds`` speech video (data/make_samples.py) into a fresh
   library, against the bare work it cannot skip (benchmarks/children/bare_ingest.py:
   faster-whisper tiny.en with word timestamps + PySceneDetect ContentDetector on the same
   file), as a ratio, with each process's peak RSS. The two alternate, ``--runs`` times each
   (at least 2), after one untimed ingest that pays the one-time costs (the ONNX export of the
   text model, the OS file cache) for both.
The load average is printed with each figure: the machine is shared, and a busy one inflates
every time here. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from harness import (
    ROOT,
    Run,
    child_command,
    heimdex_command,
    load_note,
    machine_note,
    pct,
    phase_lines,
    run_measured,
)

TARGETS = {"search_p50_s": 1.5, "import_s": 0.3, "help_s": 0.3, "ingest_ratio": 2.0}
QUERIES = [
    "the old bridge near the river",
    "a storm over the harbour at night",
    "someone explains the budget",
    "children playing in the garden",
    "river",
    "the train was late again",
    "a quiet morning in the village",
]


def verdict(value: float, key: str) -> str:
    goal = TARGETS[key]
    return f"target <= {goal}: {'met' if value <= goal else 'MISSED'}"


def build_search_library(path: Path, scenes: int) -> None:
    import search as bench  # benchmarks/search.py: the synthetic scenes and their vectors

    rng = np.random.default_rng(bench.SEED)
    transcripts = bench.Transcripts(bench.vocabulary(), rng)
    pool, pool_vectors, _ = bench.embed_pool(rng, transcripts)
    size_rng = np.random.default_rng([bench.SEED, scenes])
    bench.build_library(path, scenes, size_rng, transcripts, pool, pool_vectors, vision=False)


def search_once(library: Path, query: str) -> Run:
    run = run_measured([*heimdex_command(), "--library", str(library), "--user", "local",
                        "search", query, "--json"])  # fmt: skip
    if run.returncode != 0 or not json.loads(run.stdout)["results"]:
        sys.exit(f"search failed ({run.returncode}): {run.stderr[-500:]}")
    return run


def cold_search(library: Path, runs: int) -> tuple[Run, list[Run]]:
    """The first search after a write (no exact copy of the vectors yet), then ``runs`` more."""
    shutil.rmtree(library / "vectors" / "exact", ignore_errors=True)
    first = search_once(library, QUERIES[-1])
    return first, [search_once(library, QUERIES[n % len(QUERIES)]) for n in range(runs)]


def figures(runs: list[Run]) -> str:
    walls, cpus = [r.wall_s for r in runs], [r.cpu_s for r in runs]
    return (f"wall p50 {pct(walls, 50):5.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
            f"CPU p50 {pct(cpus, 50):5.2f} s")  # fmt: skip


def start_up(runs: int) -> tuple[list[Run], list[Run], list[Run]]:
    """``python -c "import heimdex_lab"``, ``python -c pass``, and ``heimdex --help``."""
    imports, bare, helps = [], [], []
    for _ in range(runs):
        imports.append(run_measured([sys.executable, "-c", "import heimdex_lab"]))
        bare.append(run_measured([sys.executable, "-c", "pass"]))
        helps.append(run_measured([*heimdex_command(), "--help"]))
    return imports, bare, helps


def ingest_ratio(work: Path, seconds: float, runs: int) -> None:
    video = work / f"speech_{int(seconds)}s.mp4"
    make = run_measured([sys.executable, str(ROOT / "data" / "make_samples.py"), "--long",
                         str(seconds), "--out", str(video)])  # fmt: skip
    if make.returncode != 0:
        sys.exit(f"make_samples failed: {make.stderr[-500:]}")

    def heimdex(n: int) -> tuple[Run, dict[str, object]]:
        library = work / f"ingest-{n}"
        run = run_measured([*heimdex_command(), "--library", str(library), "ingest",
                            str(video), "--json"])  # fmt: skip
        shutil.rmtree(library, ignore_errors=True)
        if run.returncode != 0:
            sys.exit(f"heimdex ingest failed ({run.returncode}): {run.stderr[-800:]}")
        return run, json.loads(run.stdout)[0]

    def bare() -> tuple[Run, dict[str, object]]:
        run = run_measured(child_command("bare_ingest.py", str(video)))
        if run.returncode != 0:
            sys.exit(f"bare script failed ({run.returncode}): {run.stderr[-800:]}")
        return run, json.loads(run.stdout)

    heimdex(0)  # untimed: one-time costs (ONNX export, file cache) are no start-up cost
    ours, base = [], []
    for n in range(max(2, runs)):
        ours.append(heimdex(n + 1))
        base.append(bare())
    row, facts = ours[-1][1], base[-1][1]
    for label, pairs, note in (
        ("bare faster-whisper + ContentDetector", base,
         f"{facts['words']} words, cuts {facts['cuts']}"),
        ("heimdex ingest (new process)", ours, f"{row['state']}, {row['scenes']} scenes"),
    ):  # fmt: skip
        got = [r for r, _ in pairs]
        print(f"  {label:38s} {figures(got)}, peak RSS "
              f"{max(r.peak_rss_mb for r in got):4.0f} MB  ({note})")  # fmt: skip
    wall = pct([r.wall_s for r, _ in ours], 50) / pct([r.wall_s for r, _ in base], 50)
    cpu = pct([r.cpu_s for r, _ in ours], 50) / pct([r.cpu_s for r, _ in base], 50)
    print(f"  ratio heimdex / bare: wall {wall:5.2f}x   {verdict(wall, 'ingest_ratio')};  "
          f"CPU {cpu:5.2f}x")  # fmt: skip
    print(f"  ({len(ours)} runs each, alternating; {load_note()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--keep", type=Path, help="build the search library here and keep it")
    parser.add_argument("--only", type=int, choices=(1, 2, 3), help="run only this figure")
    args = parser.parse_args()
    print(machine_note())
    work = Path(tempfile.mkdtemp(prefix="heimdex-bench-cold-"))
    try:
        if args.only != 3:
            search_figures(args, work)
        if args.only in (None, 3):
            print(f"\n3. one {args.seconds:.0f} s video, new process each ({load_note()})")
            ingest_ratio(work, args.seconds, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def search_figures(args: argparse.Namespace, work: Path) -> None:
    """Figures 1 (search; built library) and 2 (start-up), as ``--only`` asks."""
    if args.only in (None, 1):
        library = args.keep or work / f"library-{args.scenes}"
        if not (library / "catalog.sqlite").exists():
            print(f"building a {args.scenes:,}-scene library ({load_note()}) …", flush=True)
            build_search_library(library, args.scenes)
        print(f"\n1. heimdex search in a new process, {args.scenes:,} scenes ({load_note()})")
        first, runs = cold_search(library, args.runs)
        p50 = pct([r.wall_s for r in runs], 50)
        print(f"  first after a write (copies the vectors out of Chroma): wall "
              f"{first.wall_s:5.2f} s, CPU {first.cpu_s:5.2f} s")  # fmt: skip
        rss = max(r.peak_rss_mb for r in runs)
        print(f"  then {len(runs)} queries: {figures(runs)}, peak RSS {rss:4.0f} MB   "
              f"{verdict(p50, 'search_p50_s')}")  # fmt: skip
        print(f"  where one search's time goes (in-process marks; {load_note()}):")
        phases = run_measured(child_command("cold_phases.py", str(library), QUERIES[0]))
        print("\n".join(phase_lines(phases)))
    if args.only in (None, 2):
        print(f"\n2. start-up ({load_note()})")
        imports, bare, helps = start_up(args.runs)
        imp, py = pct([r.wall_s for r in imports], 50), pct([r.wall_s for r in bare], 50)
        hlp = pct([r.wall_s for r in helps], 50)
        print(f"  python -c pass                  {figures(bare)}")
        print(f"  python -c 'import heimdex_lab'  {figures(imports)}   "
              f"(import alone {imp - py:.2f} s wall)   {verdict(imp, 'import_s')}")  # fmt: skip
        print(f"  heimdex --help                  {figures(helps)}   {verdict(hlp, 'help_s')}")


if __name__ == "__main__":
    main()
