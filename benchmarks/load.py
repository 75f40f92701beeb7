"""Search under concurrent load: ``GET /api/v1/search`` from 1, 8 and 32 clients (issues 10, 7).

    .venv/bin/python benchmarks/load.py [--clients 1,8,32] [--seconds 20] [--scenes 10000]
                                        [--library DIR] [--keep] [--auth] [--timeout 10]

Builds a library of ``--scenes`` synthetic scenes with benchmarks/search.py's builder (real
catalog, FTS5 and Chroma writes; MiniLM vectors of a sentence pool plus noise, see search.py)
in a temporary directory, or reuses ``--library DIR`` (built there first if it has no catalog;
never deleted). Starts the real server as a subprocess on a free loopback port,

    python -m heimdex_lab.cli --library LIB --user local serve --no-auth --port P

with ``HEIMDEX_API_RATE_LIMIT=100000/minute``: the default 600/minute per token would make this
a test of the rate limiter (the limiter itself still runs on every request). It waits for
``/healthz`` then ``/readyz``, and warms up with 5 searches (the first loads the text model).

Load: for each N in ``--clients``, N worker threads in this process, one keep-alive
``httpx.Client`` each, send ``GET /api/v1/search?q=…&k=10`` back to back (closed loop) for
``--seconds``; then no new request starts, and those in flight finish (at most ``--timeout``).
Queries: ~50 varied ones from search.py's make_queries (sentences, phrases, frequent and rare
words, no-hit; fixed seed), each worker cycling through them from its own offset. Per N:
responses, throughput (good responses / time until the last one), client-side latency
p50/p95/p99/max of the good ones (sent -> body read), errors by kind (HTTP status, timeout,
connection, bad body), and the server's own latency from its access log (time inside the ASGI
app, thread-pool wait included).
A good response is a 200 whose JSON has ``results``. Target: no errors and p95 <= 300 ms at 8
clients (2 cores): PASS or MISS.

The server and the clients share the machine: CPU seconds per wall second are printed for both
(server from /proc/PID/stat, this process from getrusage), so a client-bound run shows, and the
time the server's threads sat runnable in the run queue (/proc/PID/task/*/schedstat): CPU they
wanted and did not get, from other processes or from too many threads of their own. Also the
server's VmRSS / VmHWM before and after, the load average at the start of each block (other
processes on the CPU inflate the figures, torch's OpenMP threads most), and the server command.
This shell's environment passes through to the server; its OMP_/MKL_/TORCH_/HEIMDEX_ variables
are printed (``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/load.py`` compares torch threads).
``--auth`` mints a bearer token with ``heimdex users token local`` (no account needed) and sends
it on every request, so its hash and catalog lookup are paid; the server still runs with
``--no-auth`` (``serve`` refuses to start without an account, and the sign-in guard it adds lets
``/api/`` through untouched), but a bearer header is checked before that fallback.
The server and the temporary directory are removed at the end, on errors and on Ctrl-C too;
``--keep`` keeps the directory (library, server log). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
from harness import ROOT, Server, cpu_model, heimdex_serve, load_note, memory_mb
from search import (
    OWNER,
    SEED,
    Transcripts,
    build_library,
    embed_pool,
    make_queries,
    pct,
    vocabulary,
)

SERVER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "HEIMDEX_API_RATE_LIMIT": "100000/minute",
}
THREAD_VARS = ("OMP_", "MKL_", "OPENBLAS_", "TORCH_", "HEIMDEX_")
TARGET_CLIENTS = 8
TARGET_P95_MS = 300.0
WARMUP_SEARCHES = 5
START_TIMEOUT_S = 180.0
SEARCH_PATH = "/api/v1/search"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# The server -----------------------------------------------------------------------------------


def heimdex(library: Path) -> list[str]:
    return [sys.executable, "-m", "heimdex_lab.cli", "--library", str(library), "--user", OWNER]


def server_env() -> dict[str, str]:
    return {**os.environ, **SERVER_ENV}


@contextmanager
def running_server(library: Path, workdir: Path) -> Iterator[Server]:
    """Start the server, wait until /readyz says ready; stop it (and its group) on the way out."""
    with heimdex_serve(library, workdir / "server.log", env=SERVER_ENV,
                       timeout_s=START_TIMEOUT_S) as server:  # fmt: skip
        yield server


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces; fields from 3 on
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_queue_ns(pid: int) -> dict[int, int]:
    """Per thread: ns spent runnable but waiting for a CPU (taken by other threads/processes)."""
    waits: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError):  # a thread that ended meanwhile
            waits[int(task.name)] = int((task / "schedstat").read_text().split()[1])
    return waits


def run_queue_seconds_since(pid: int, before: dict[int, int]) -> float:
    """Run-queue wait since ``before`` of the threads alive now (threads that ended are lost)."""
    now = run_queue_ns(pid)
    return sum(ns - before.get(tid, 0) for tid, ns in now.items()) / 1e9


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mint_token(library: Path) -> str:
    proc = subprocess.run(
        [*heimdex(library), "users", "token", OWNER],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"`heimdex users token {OWNER}` failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip().splitlines()[-1]


# Load -----------------------------------------------------------------------------------------


@dataclass
class Block:
    """What one block of N closed-loop clients measured."""

    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    server_wait_s: float = 0.0
    server_ms: list[float] = field(default_factory=list)
    load_at_start: str = ""

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def requests(self) -> int:
        return self.ok + sum(self.errors.values())


def one_request(client: httpx.Client, query: str, errors: Counter[str]) -> float | None:
    """Latency in ms of a good response, else None with the error counted by kind."""
    start = time.perf_counter()
    try:
        response = client.get(SEARCH_PATH, params={"q": query, "k": 10})
    except httpx.TimeoutException:
        errors["timeout"] += 1
        return None
    except httpx.TransportError as exc:
        errors[f"connection ({type(exc).__name__})"] += 1
        return None
    except httpx.RequestError as exc:
        errors[f"request ({type(exc).__name__})"] += 1
        return None
    ms = (time.perf_counter() - start) * 1000.0
    if response.status_code != 200:
        errors[f"HTTP {response.status_code}"] += 1
        return None
    try:
        ok = "results" in response.json()
    except ValueError:
        ok = False
    if not ok:
        errors["bad body"] += 1
        return None
    return ms


def run_block(
    server: Server,
    clients: int,
    seconds: float,
    queries: list[str],
    headers: dict[str, str],
    timeout: float,
) -> Block:
    block = Block(clients, load_at_start=load_note())
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)
    deadline = [0.0]
    finished: list[float] = []

    def worker(offset: int) -> None:
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        with httpx.Client(base_url=server.url, headers=headers, timeout=timeout) as client:
            gate.wait()
            i = offset
            while time.perf_counter() < deadline[0]:
                ms = one_request(client, queries[i % len(queries)], errors)
                if ms is not None:
                    latencies.append(ms)
                i += 1
        with lock:
            block.latencies_ms.extend(latencies)
            block.errors.update(errors)
            finished.append(time.perf_counter())

    spread = max(1, len(queries) // clients)
    threads = [
        threading.Thread(target=worker, args=(n * spread,), daemon=True) for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    log_from = server.log.stat().st_size
    cpu0, server0 = own_cpu_seconds(), cpu_seconds(server.pid)
    wait0 = run_queue_ns(server.pid)
    start = time.perf_counter()
    deadline[0] = start + seconds
    gate.wait()
    for thread in threads:
        thread.join()
    block.elapsed_s = (max(finished) if finished else time.perf_counter()) - start
    block.client_cpu_s = own_cpu_seconds() - cpu0
    block.server_cpu_s = cpu_seconds(server.pid) - server0
    block.server_wait_s = run_queue_seconds_since(server.pid, wait0)
    block.server_ms = server_latencies(server.log, log_from)
    return block


def server_latencies(log: Path, offset: int) -> list[float]:
    """``latency_ms`` of the search requests the access log recorded after ``offset``."""
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    out = []
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("route") == SEARCH_PATH and entry.get("status") == 200:
            out.append(float(entry["latency_ms"]))
    return out


# Output ---------------------------------------------------------------------------------------


def print_block(block: Block, seconds: float) -> None:
    lat, srv = block.latencies_ms, block.server_ms
    errors = ", ".join(f"{kind}: {n}" for kind, n in block.errors.most_common()) or "none"
    throughput = block.ok / block.elapsed_s if block.elapsed_s else 0.0
    print(
        f"\n== {block.clients} client{'s' if block.clients > 1 else ''}, {seconds:g} s "
        f"({block.load_at_start} at start) =="
    )
    print(f"  requests {block.requests:,}: {block.ok:,} ok, errors: {errors}")
    print(f"  throughput {throughput:7.1f} req/s   ({block.ok:,} ok in {block.elapsed_s:.1f} s)")
    if lat:
        print(
            f"  latency ms, client  p50 {pct(lat, 50):7.1f}  p95 {pct(lat, 95):7.1f}  "
            f"p99 {pct(lat, 99):7.1f}  max {max(lat):7.1f}"
        )
    if srv:
        print(
            f"  latency ms, server  p50 {pct(srv, 50):7.1f}  p95 {pct(srv, 95):7.1f}  "
            f"p99 {pct(srv, 99):7.1f}  max {max(srv):7.1f}   (access log, {len(srv):,} "
            "lines)"
        )
    wall = block.elapsed_s or 1.0
    per_request = block.server_cpu_s * 1000.0 / block.ok if block.ok else float("nan")
    print(
        f"  CPU s per wall s: server {block.server_cpu_s / wall:.2f} "
        f"({per_request:.1f} ms CPU per request), clients (this process) "
        f"{block.client_cpu_s / wall:.2f}   of {os.cpu_count()} cores"
    )
    print(
        f"  server threads waiting for a CPU (run queue, /proc/PID/task/*/schedstat): "
        f"{block.server_wait_s / wall:.2f} s per wall s"
    )
    if block.clients == TARGET_CLIENTS:
        p95 = pct(lat, 95)
        met = not block.errors and p95 <= TARGET_P95_MS
        print(
            f"  target at {TARGET_CLIENTS} clients: 0 errors and p95 <= {TARGET_P95_MS:.0f} ms: "
            f"{'PASS' if met else 'MISS'} ({sum(block.errors.values())} errors, "
            f"p95 {p95:.1f} ms)"
        )


def print_summary(blocks: list[Block]) -> None:
    print("\n== summary ==")
    print("  clients  requests  errors   req/s    p50 ms   p95 ms   p99 ms   max ms")
    for b in blocks:
        lat = b.latencies_ms or [float("nan")]
        throughput = b.ok / b.elapsed_s if b.elapsed_s else 0.0
        print(
            f"  {b.clients:7d}  {b.requests:8,}  {sum(b.errors.values()):6,}  {throughput:6.1f}"
            f"  {pct(lat, 50):8.1f} {pct(lat, 95):8.1f} {pct(lat, 99):8.1f} "
            f"{max(lat):8.1f}"
        )


# Main -----------------------------------------------------------------------------------------


def prepare_library(args: argparse.Namespace, workdir: Path) -> Path:
    library: Path = args.library or workdir / "library"
    if (library / "catalog.sqlite").exists():
        print(f"library: reusing {library}")
        return library
    rng = np.random.default_rng(SEED)
    transcripts = Transcripts(vocabulary(), rng)
    pool, pool_vectors, _ = embed_pool(rng, transcripts)
    start = time.perf_counter()
    t = build_library(library, args.scenes, rng, transcripts, pool, pool_vectors, vision=False)
    print(
        f"library: built {int(t['videos'])} videos, {int(t['scenes']):,} scenes, "
        f"{int(t['sentences']):,} sentence vectors in {time.perf_counter() - start:.0f} s "
        f"at {library} (benchmarks/search.py's builder)"
    )
    return library


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each block")
    parser.add_argument("--scenes", type=int, default=10_000, help="scenes in a built library")
    parser.add_argument("--library", type=Path, help="reuse (or build and keep) this library")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--auth", action="store_true", help="send a bearer token (looked up)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, s")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    # SIGTERM unwinds like Ctrl-C, so the server and the temporary directory go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.platform()}, "
        f"Python {platform.python_version()}, httpx {httpx.__version__}"
    )
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(load_note())
    workdir = Path(tempfile.mkdtemp(prefix="heimdex-bench-load-"))
    try:
        library = prepare_library(args, workdir)
        queries = make_queries(
            np.random.default_rng(SEED + 1),
            Transcripts(vocabulary(), np.random.default_rng(SEED + 2)),
        )
        headers = {"Authorization": f"Bearer {mint_token(library)}"} if args.auth else {}
        with running_server(library, workdir) as server:
            env = " ".join(f"{k}={v}" for k, v in SERVER_ENV.items())
            print(f"server: {env} {shlex.join(server.command)}")
            # Thread settings inherited from this shell change the figures a lot (torch's OpenMP).
            inherited = sorted(
                k for k in os.environ if k.startswith(THREAD_VARS) and k not in SERVER_ENV
            )
            if inherited:
                print("  inherited: " + " ".join(f"{k}={os.environ[k]}" for k in inherited))
            print(
                f"  pid {server.pid}; auth: "
                f"{'bearer token on every request' if args.auth else 'none (--no-auth)'}"
            )
            with httpx.Client(base_url=server.url, headers=headers, timeout=120.0) as client:
                videos = client.get("/api/v1/videos").json()
                scenes = sum(v.get("scenes") or 0 for v in videos)
                print(f"  library: {len(videos)} videos, {scenes:,} scenes (GET /api/v1/videos)")
                mem = memory_mb(server.pid)
                print(f"  server memory ready, before warm-up: VmRSS {mem['VmRSS']:.0f} MB")
                warm = []
                for query in queries[:WARMUP_SEARCHES]:
                    start = time.perf_counter()
                    client.get(SEARCH_PATH, params={"q": query, "k": 10}).raise_for_status()
                    warm.append((time.perf_counter() - start) * 1000.0)
            mem = memory_mb(server.pid)
            print(
                f"  warm-up searches, ms: {', '.join(f'{ms:.0f}' for ms in warm)} "
                f"(the first loads the text model)"
            )
            print(
                f"  server memory after warm-up: VmRSS {mem['VmRSS']:.0f} MB, "
                f"VmHWM {mem['VmHWM']:.0f} MB"
            )
            print(
                f"queries: {len(queries)} (search.py's: sentences, phrases, frequent and rare "
                f"words, no-hit), cycled per worker; k=10, mode hybrid (the default); "
                f"timeout {args.timeout:g} s; one keep-alive httpx.Client per worker thread"
            )
            blocks = []
            for n in counts:
                block = run_block(server, n, args.seconds, queries, headers, args.timeout)
                print_block(block, args.seconds)
                blocks.append(block)
            mem = memory_mb(server.pid)
            print(
                f"\n  server memory after load: VmRSS {mem['VmRSS']:.0f} MB, "
                f"VmHWM {mem['VmHWM']:.0f} MB"
            )
            print_summary(blocks)
            print(f"  ({load_note()} at the end)")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted (the server was stopped, the temporary directory removed)")
