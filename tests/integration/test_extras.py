"""What a user without an extra sees: the core works, and a feature that needs an extra says
which one in one line (no traceback). An extra is taken away inside a subprocess by blocking
its modules in ``sys.modules`` (the shared environment has every extra installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The top-level modules each extra brings (pyproject.toml [project.optional-dependencies]).
EXTRA_MODULES = {
    "app": ["panel", "bokeh", "bokeh_fastapi", "fastapi", "fastapi_offline", "uvicorn",
            "slowapi", "prometheus_client", "python_multipart", "multipart", "bcrypt", "jwt"],
    "lab": ["mlflow", "papermill", "jupytext", "ipywidgets", "jupyterlab", "matplotlib",
            "skimage"],
    "scale": ["ray", "psycopg", "supabase"],
}  # fmt: skip

_RUN_CLI = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # `import name` now fails as if it were not installed
sys.argv = ["heimdex", *sys.argv[2:]]
from heimdex_lab.cli import app
app()
"""


def heimdex_without(
    extras: list[str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    blocked = ",".join(m for extra in extras for m in EXTRA_MODULES[extra])
    return subprocess.run(
        [sys.executable, "-c", _RUN_CLI, blocked, *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_the_core_ingests_and_searches_without_any_extra(tmp_path: Path) -> None:
    library = str(tmp_path / "library")
    sample = ROOT / "data" / "samples" / "space_talk.mp4"
    everything = ["app", "lab", "scale"]
    done = heimdex_without(everything, "--library", library, "ingest", "--json", str(sample))
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert row["state"] == "ready"
    done = heimdex_without(everything, "--library", library, "search", "--json", "-k", "1",
                           "the launch was postponed for lack of money")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (hit,) = json.loads(done.stdout)["results"]
    assert (hit["filename"], hit["start"]) == ("space_talk.mp4", 0.0)


def test_serve_without_the_app_extra_names_it(tmp_path: Path) -> None:
    done = heimdex_without(["app"], "--library", str(tmp_path / "lib"), "serve", "--no-auth")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "heimdex: error: heimdex serve needs the app extra: pip install 'heimdex-lab[app]' "
        "(fastapi is not installed)"
    )


def test_accounts_without_the_app_extra_name_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, "bcrypt", "--library", str(tmp_path / "lib"),
         "users", "add", "alice"],
        input="a long password\n", capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 2
    assert "needs the app extra: pip install 'heimdex-lab[app]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_postgres_catalog_without_the_scale_extra_names_it(tmp_path: Path) -> None:
    url = "postgresql+psycopg://heimdex@127.0.0.1:9/heimdex"  # never reached: no driver
    done = heimdex_without(["scale"], "--library", str(tmp_path / "lib"), "videos",
                           env={"HEIMDEX_DATABASE_URL": url})  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "heimdex: error: a postgresql catalog (HEIMDEX_DATABASE_URL) needs the scale extra: "
        "pip install 'heimdex-lab[scale]' (psycopg is not installed)"
    )


def test_ray_ingest_without_the_scale_extra_names_it(tmp_path: Path) -> None:
    sample = ROOT / "data" / "samples" / "space_talk.mp4"
    done = heimdex_without(["scale"], "--library", str(tmp_path / "lib"), "ingest",
                           "--executor", "ray", str(sample))  # fmt: skip
    assert done.returncode == 2
    assert "heimdex ingest --executor ray needs the scale extra: " in done.stderr
    assert "pip install 'heimdex-lab[scale]' (ray is not installed)" in done.stderr
    assert "Traceback" not in done.stderr


def test_mlflow_tracking_without_the_lab_extra_names_it() -> None:
    code = (
        "import sys; sys.modules['mlflow'] = None\n"
        "from heimdex_lab import tracking\n"
        "from heimdex_lab.errors import MissingExtra\n"
        "try:\n    tracking.experiment('x')\n"
        "except MissingExtra as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
    )
    assert done.stdout.strip() == (
        "MLflow tracking needs the lab extra: pip install 'heimdex-lab[lab]' "
        "(mlflow is not installed)"
    )
