"""What every benchmark script shares: the machine note, free ports, the server, RSS, children.

Imported by the scripts beside it (``python benchmarks/X.py`` puts this folder on ``sys.path``).
Child scripts live in ``benchmarks/children/`` as real files, so ruff and mypy check them.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = Path(__file__).resolve().parent / "children"
# Offline and quiet, as the package sets for itself; a child inherits these.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
}


# The machine ------------------------------------------------------------------------------------


def cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def machine_note() -> str:
    return (
        f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def load_note() -> str:
    """The 1-minute load average: figures taken while other processes run are not comparable."""
    load = os.getloadavg()[0]
    busy = " (other processes are busy: times will be inflated)" if load > 0.8 else ""
    return f"load average {load:.2f}{busy}"


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation, as numpy's default); NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# Processes --------------------------------------------------------------------------------------


def heimdex_command() -> list[str]:
    """The ``heimdex`` of this interpreter's venv, else ``python -m heimdex_lab.cli``."""
    exe = Path(sys.executable).parent / "heimdex"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "heimdex_lab.cli"]


def child_command(script: str, *args: str) -> list[str]:
    """Run ``benchmarks/children/<script>`` with this interpreter."""
    return [sys.executable, str(CHILDREN / script), *args]


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a live process in MB; empty once it has exited."""
    out: dict[str, float] = {}
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


@dataclass(frozen=True)
class Run:
    """One finished child: wall seconds, its own peak RSS, exit code and output, and its CPU
    seconds (user + system): on a shared machine the wall time grows with the load average,
    the CPU time much less, so both are reported."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0


def run_measured(cmd: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run ``cmd`` to the end; the peak RSS is that child's own (``wait4``), not the sum of
    every child this script has waited for (``RUSAGE_CHILDREN``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env={**os.environ, **OFFLINE_ENV, **(env or {})},
            stdout=out, stderr=err, text=True,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)  # reaps it: Popen must not wait again
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Run(wall, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read(), cpu)


def phase_lines(run: Run) -> list[str]:
    """The table of ``children/cold_phases.py``'s output: wall and CPU per phase, then the
    teardown (the child's CPU after its last mark) and the whole process."""
    if run.returncode != 0:
        return [f"    ! cold_phases failed ({run.returncode}): {run.stderr.strip()[-300:]}"]
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    lines = [f"    {'phase':56s} {'wall s':>7s} {'CPU s':>6s}"]
    for label, wall, cpu in rows:
        shown = "      -" if wall != wall else f"{wall:7.3f}"  # NaN: not measurable inside
        lines.append(f"    {label:56s} {shown} {cpu:6.3f}")
    teardown = run.cpu_s - sum(cpu for _, _, cpu in rows)
    lines.append(f"    {'teardown (CPU after the last mark; the CLI skips it)':56s} {'':>7s} "
                 f"{teardown:6.3f}")  # fmt: skip
    lines.append(f"    {'whole process':56s} {run.wall_s:7.3f} {run.cpu_s:6.3f}")
    return lines


# The server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``heimdex serve``: its process, base URL (no trailing slash) and log file."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    command: list[str]
    start_s: float = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def heimdex_serve(
    library: Path,
    log: Path,
    ready_paths: Sequence[str] = ("/healthz", "/readyz"),
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = ("--no-auth",),
    timeout_s: float = 180.0,
) -> Iterator[Server]:
    """``heimdex serve`` on a free loopback port, yielded once every ``ready_paths`` answers 200.

    It runs in its own session (a Ctrl-C reaches this script first) and writes to a file, not a
    pipe (the access log must never block it); it is stopped on the way out, whatever happened:
    SIGINT first (uvicorn shuts down cleanly), then SIGKILL to what is left of its group.
    """
    port = free_port()
    command = [*heimdex_command(), "--library", str(library), "serve", *extra_args,
               "--port", str(port), "--address", "127.0.0.1"]  # fmt: skip
    start = time.perf_counter()
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **OFFLINE_ENV, **(env or {})},
        )  # fmt: skip
    server = Server(proc, f"http://127.0.0.1:{port}", log, command)
    try:
        deadline = start + timeout_s
        for path in ready_paths:
            while not _answers(server.url + path):
                if proc.poll() is not None:
                    raise RuntimeError(f"heimdex serve exited ({proc.returncode}):\n"
                                       f"{server.log_tail()}")  # fmt: skip
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{path} did not answer in {timeout_s:.0f} s:\n"
                                       f"{server.log_tail()}")  # fmt: skip
                time.sleep(0.1)
        server.start_s = time.perf_counter() - start
        yield server
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
