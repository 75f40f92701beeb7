"""One configuration of benchmarks/ray_ingest.py, in its own process.

    python benchmarks/children/ray_ingest_run.py local|ray CPUS LIBRARY VIDEO...

Prints one JSON line: Ray start and ingest wall time, states, seconds of video, the driver's
peak RSS, each Ray worker's peak RSS and what Ray's own processes hold now.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from heimdex_lab import Library


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(pid))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def memory(pid: int) -> tuple[str, float, float] | None:
    """Command line, peak RSS and RSS (MB) of a live process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
          if line.startswith(("VmHWM", "VmRSS"))}  # fmt: skip
    return cmd, kb.get("VmHWM", 0) / 1024, kb.get("VmRSS", 0) / 1024


def main() -> None:
    executor, cpus, library, *videos = sys.argv[1:]
    lib = Library.open(library)
    init_s = 0.0
    if executor == "ray":
        from heimdex_lab.ingest.executors import init_ray

        t = time.perf_counter()
        init_ray(num_cpus=int(cpus))
        init_s = time.perf_counter() - t
    start = time.perf_counter()
    results = lib.ingest([Path(v) for v in videos], executor=executor, progress=False)
    wall = time.perf_counter() - start
    workers, system = [], 0.0
    for pid in descendants(os.getpid()):
        m = memory(pid)
        if m is None:
            continue
        if m[0].startswith("ray::") and "Agent" not in m[0].split()[0]:  # not Ray's agents
            workers.append(m[1])
        else:
            system += m[2]
    print(json.dumps({
        "init_s": init_s, "wall_s": wall,
        "states": [r.state for r in results],
        "video_s": sum(r.duration_s or 0 for r in results if r.state == "ready"),
        "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": sorted(workers, reverse=True), "ray_system_rss_mb": system,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
