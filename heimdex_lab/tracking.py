"""MLflow experiment tracking and papermill batch runs (docs/architecture.md §8).

Runs go to ``sqlite:////<repo>/mlruns/mlflow.db`` (an absolute path: four slashes) with artifacts
under ``<repo>/mlruns/artifacts/``, or under ``$HEIMDEX_MLRUNS`` when set.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from heimdex_lab.errors import UsageError
from heimdex_lab.extras import needs

log = logging.getLogger(__name__)

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder up from ``start`` (default: the working
    directory) holding ``pyproject.toml`` and ``notebooks/``; else the package's own checkout."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return Path(__file__).resolve().parent.parent


def resolve(path: str | Path, root: Path | None = None) -> Path:
    """A notebook parameter path: absolute as given, relative to the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (root or find_root()) / p


def mlruns_dir(root: Path | None = None) -> Path:
    env = os.environ.get("HEIMDEX_MLRUNS")
    folder = Path(env).expanduser().resolve() if env else (root or find_root()) / "mlruns"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def tracking_uri(root: Path | None = None) -> str:
    return f"sqlite:///{(mlruns_dir(root) / 'mlflow.db').resolve()}"


def experiment(name: str, root: Path | None = None) -> str:
    """Point MLflow at this project's store and return the experiment id (created if new)."""
    with needs("lab", "MLflow tracking"):
        import mlflow

    mlflow.set_tracking_uri(tracking_uri(root))
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    artifacts = (mlruns_dir(root) / "artifacts" / name).resolve()
    return str(mlflow.create_experiment(name, artifact_location=artifacts.as_uri()))


@contextmanager
def run(
    name: str, run_id: str | None = None, root: Path | None = None, **tags: str
) -> Iterator[Any]:
    """An MLflow run in experiment ``name``; resumes ``run_id`` when a batch runner made it."""
    with needs("lab", "MLflow tracking"):
        import mlflow

    experiment_id = experiment(name, root)
    mlflow.set_experiment(experiment_id=experiment_id)  # nested runs land here too
    with mlflow.start_run(run_id=run_id or None, experiment_id=experiment_id, tags=tags) as active:
        yield active


def log_params(params: Mapping[str, Any]) -> None:
    """Parameters, flattened one level (``models.text``) and cut to MLflow's value length."""
    with needs("lab", "MLflow tracking"):
        import mlflow

    flat: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": str(v)[:500] for k, v in value.items()})
        else:
            flat[key] = str(value)[:500]
    mlflow.log_params(flat)


def log_metrics_dict(metrics: Mapping[str, float], prefix: str = "") -> None:
    """Metrics with MLflow-safe names (``recall@1`` becomes ``recall_at_1``)."""
    with needs("lab", "MLflow tracking"):
        import mlflow

    mlflow.log_metrics({f"{prefix}{k.replace('@', '_at_')}": float(v) for k, v in metrics.items()})


def log_report(report: Any) -> None:
    """An evaluation report: ``<signal>.<metric>`` for each signal that ran."""
    for signal, metrics in report.metrics.items():
        if metrics is not None:
            log_metrics_dict(metrics, prefix=f"{signal}.")
    for kind, signals in report.by_kind.items():
        for signal, metrics in signals.items():
            if metrics is not None:
                log_metrics_dict(metrics, prefix=f"{kind}.{signal}.")
    # How sure the results of unanswerable queries, and the correct top results, were labelled.
    for name in ("unanswerable", "confidence"):
        if getattr(report, name, None):
            log_metrics_dict(getattr(report, name), prefix=f"{name}.")


def log_frame(frame: Any, name: str) -> None:
    """A Polars DataFrame as a Parquet artifact."""
    with needs("lab", "MLflow tracking"):
        import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.write_parquet(path)
        mlflow.log_artifact(str(path))


def run_notebook(
    notebook: Path, parameters: Mapping[str, Any], output: Path, root: Path | None = None
) -> str:
    """Execute ``notebook`` with papermill inside a fresh MLflow run; returns the run id.

    The run is created first and its id handed to the notebook (parameter ``mlflow_run_id``),
    which logs into it; the executed notebook is then attached to the same run.
    """
    with needs("lab", "running notebooks (papermill)"):
        import mlflow
        import papermill

    root = root or find_root(notebook.parent)
    with run(_experiment_of(notebook), root=root, notebook=notebook.name) as active:
        run_id = active.info.run_id
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters={**parameters, "mlflow_run_id": run_id},
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    with run(_experiment_of(notebook), run_id=run_id, root=root):
        mlflow.log_artifact(str(output), artifact_path="notebook")
    return str(run_id)


def _experiment_of(notebook: Path) -> str:
    return notebook.stem


def batch(param_files: list[Path], out_dir: Path) -> list[str]:
    """Run each named parameter set (YAML: ``notebook`` + ``parameters``) with papermill."""
    with needs("lab", "notebook parameter sets (YAML)"):
        import yaml

    run_ids = []
    for path in param_files:
        spec = yaml.safe_load(path.read_text()) or {}
        if "notebook" not in spec:
            raise UsageError(f"{path}: needs a 'notebook' key naming the notebook to run")
        notebook = resolve(Path("notebooks") / f"{spec['notebook']}.ipynb")
        if not notebook.is_file():
            raise UsageError(f"{path}: no notebook {notebook}")
        output = out_dir / f"{path.stem}.ipynb"
        run_id = run_notebook(notebook, spec.get("parameters") or {}, output)
        log.warning("%s: %s -> MLflow run %s", path.name, output, run_id)
        run_ids.append(run_id)
    return run_ids


def main() -> None:
    parser = argparse.ArgumentParser(description="Run parameterised notebooks with papermill.")
    parser.add_argument("params", nargs="+", type=Path, help="notebooks/params/*.yaml")
    parser.add_argument("--out", type=Path, default=None, help="executed notebooks folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    batch(args.params, args.out or mlruns_dir() / "notebooks")


if __name__ == "__main__":
    main()
