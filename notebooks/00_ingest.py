# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Ingest videos into a library
# Validates, transcribes, splits into scenes, picks keyframes and embeds each video, then logs
# the run (models, counts, speed) to MLflow. Paths are relative to the repository root.

# %% tags=["parameters"]
library: str = ""  # library directory; empty: $HEIMDEX_LIBRARY, else data/library
inputs: list = ["data/samples/*.mp4", "data/samples/*.mkv", "data/samples/*.webm"]  # globs
models: dict = {}  # settings overrides, e.g. {"whisper_model": "small", "text_model": "..."}
executor: str = "local"  # "local", or "ray": one Ray task per video ($RAY_ADDRESS or local Ray)
mlflow_run_id: str = ""  # set by `make batch`; empty: a new run

# %%
import glob
import os
import time

from heimdex_lab import Library, tracking

root = tracking.find_root()
library_dir = tracking.resolve(library or os.environ.get("HEIMDEX_LIBRARY", "data/library"), root)
paths = sorted({p for pattern in inputs for p in glob.glob(str(tracking.resolve(pattern, root)))})
lib = Library.open(library_dir, **models)
print(f"library: {library_dir}; {len(paths)} input file(s)")

# %%
started = time.perf_counter()
results = lib.ingest(paths, executor=executor)
seconds = time.perf_counter() - started
lib.videos().frame

# %%
with tracking.run("00_ingest", run_id=mlflow_run_id):
    tracking.log_params(
        {"models": lib.settings.models_used(), "inputs": len(paths), "executor": executor}
    )
    ingested = sum(r.duration_s or 0 for r in results if r.state == "ready" and not r.duplicate)
    tracking.log_metrics_dict(
        {
            "videos_ready": sum(r.state == "ready" for r in results),
            "videos_rejected": sum(r.state == "rejected" for r in results),
            "videos_failed": sum(r.state == "failed" for r in results),
            "ingest_seconds": seconds,
            "ingest_x_realtime": ingested / seconds if ingested else 0.0,
        }
    )
    tracking.log_frame(lib.videos().frame, "videos.parquet")
