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
# # 20 · Retrieval evaluation and fusion-weight sweep
# Recall@1/5/10, MRR and nDCG@10 of each signal alone and fused on a QUERIES.jsonl file, for a
# sweep of BM25 weights; every setting and the best one are logged to MLflow.

# %% tags=["parameters"]
library: str = ""  # library directory; empty: $HEIMDEX_LIBRARY, else data/library
queries: str = "data/samples/queries.jsonl"  # QUERIES.jsonl with relevant time ranges
models: dict = {}  # settings overrides, e.g. {"text_model": "all-mpnet-base-v2"}
fusion: str = "convex"  # "convex" (z-scored weighted sum) or "rrf"
weights: dict = {"text": 1.0, "keyword": 0.1, "image": 0.3}  # base fusion weights
sweep: list = [0.0, 0.05, 0.1, 0.2, 0.5]  # BM25 weights to try with the base weights
select_by: str = "recall@1"  # hybrid metric that picks the best setting
mlflow_run_id: str = ""  # set by `make batch`; empty: a new run

# %%
import os

import mlflow
import polars as pl

from heimdex_lab import Library, tracking

root = tracking.find_root()
lib = Library.open(
    tracking.resolve(library or os.environ.get("HEIMDEX_LIBRARY", "data/library"), root), **models
)
queries_path = tracking.resolve(queries, root)

# %%
rows = []
reports = {}
for bm25 in sweep:
    setting = {**weights, "keyword": bm25}
    report = lib.evaluate(queries_path, k=10, weights=setting, fusion=fusion)
    reports[bm25] = report
    for signal, metrics in report.metrics.items():
        rows.append({"keyword_weight": bm25, "signal": signal, **(metrics or {})})
table = pl.DataFrame(rows)
table.filter(pl.col("signal") == "hybrid")

# %%
best = max(sweep, key=lambda b: (reports[b].metrics["hybrid"][select_by], -b))
best_report = reports[best]
print(f"best keyword weight: {best} ({select_by} {best_report.metrics['hybrid'][select_by]:.3f})")

# %%
with tracking.run("20_eval_retrieval", run_id=mlflow_run_id):
    tracking.log_params(
        {"models": lib.settings.models_used(), "fusion": fusion, "weights": weights,
         "sweep": sweep, "queries": queries, "best_keyword_weight": best}
    )
    for bm25, report in reports.items():
        with mlflow.start_run(run_name=f"keyword={bm25}", nested=True):
            tracking.log_params({"weights": {**weights, "keyword": bm25}, "fusion": fusion})
            tracking.log_report(report)
    tracking.log_report(best_report)
    tracking.log_frame(table, "sweep.parquet")
    tracking.log_frame(best_report.frame, "per_query.parquet")
