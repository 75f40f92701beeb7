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
# # 20 · Retrieval evaluation: text model × granularity × fusion × weights × exact-words-first
# Recall@1/5/10, MRR and nDCG@10 of each signal alone and fused on a QUERIES.jsonl file, for
# every combination of the settings below; each setting is a nested MLflow run, the best one
# (by the hybrid `select_by` metric) is logged on the parent run. With `granularities` set, the
# ranking grid (`heimdex_lab.eval.sweep.rank_grid`) scores every setting in memory from vectors
# embedded once per model and scene-text unit (visual queries are left out); without, each
# setting runs through `Library.evaluate`. Last, the thresholds of result confidence are fitted
# on this library's queries (and `confidence_sets`) and logged with what they give.

# %% tags=["parameters"]
library: str = ""  # library directory; empty: $HEIMDEX_LIBRARY, else data/library
queries: str = "data/samples/queries.jsonl"  # QUERIES.jsonl with relevant time ranges
models: dict = {}  # settings overrides, e.g. {"whisper_model": "small"}
fusion: str = "convex"  # "convex" (z-scored weighted sum) or "rrf"
weights: dict = {"text": 1.0, "keyword": 0.1, "image": 0.3}  # base fusion weights
sweep: list = [0.0, 0.05, 0.1, 0.2, 0.5]  # BM25 weights to try with the base weights
text_models: list = []  # text models to compare (vectors embedded if missing); []: configured
fusions: list = []  # fusions to compare; []: [fusion]
exact_first: list = [True]  # exact-words-first on and/or off
granularities: list = []  # ranking grid: sentence, window, scene, scene+sentence; []: no grid
weight_sets: list = []  # ranking grid: whole weight dicts to try; []: weights × sweep
short_keyword_weights: list = [None]  # ranking grid: keyword weight of 1-2 word queries
rerank: list = []  # ranking grid: "first>second": second re-scores first's 50 best scenes
select_by: str = "recall@1"  # hybrid metric that picks the best setting
select_kind: str = "all"  # over which query kind ("all", "spoken", "keyword", ...)
confidence_sets: list = []  # more {"library": dir, "queries": file} to fit confidence on
confidence_target: float = 0.10  # most unanswerable queries that may get a high/medium result
mlflow_run_id: str = ""  # set by `make batch`; empty: a new run

# %%
import os

import mlflow
import polars as pl

from heimdex_lab import Library, tracking
from heimdex_lab.eval.sweep import rank_grid, run_sweep

root = tracking.find_root()
library_path = tracking.resolve(library or os.environ.get("HEIMDEX_LIBRARY", "data/library"), root)
lib = Library.open(library_path, **models)
queries_path = tracking.resolve(queries, root)

# %%
settings = weight_sets or [{**weights, "keyword": bm25} for bm25 in sweep]
embed_seconds: dict = {}
if granularities:
    result, embed_seconds = rank_grid(
        lib, queries_path, text_models or [lib.settings.text_model], granularities,
        fusions or [fusion], settings, short_keyword_weights, exact_first, rerank,
    )
else:
    result = run_sweep(
        lambda **overrides: Library.open(library_path, **{**models, **overrides}),
        queries_path,
        text_models=text_models or [lib.settings.text_model],
        fusions=fusions or [fusion],
        weights=settings,
        exact_first=exact_first,
    )
table = result.table()
table.filter(pl.col("signal") == "hybrid").select(
    "text_model", "granularity", "fusion", "keyword_weight", "short_keyword_weight",
    "exact_first", "rerank", "kind", "recall@1", "recall@5", "mrr",
)

# %%
best, best_report = result.best(select_by, select_kind)
hybrid = best_report.metrics["hybrid"] if select_kind == "all" else best_report.by_kind[select_kind]["hybrid"]
print(f"best: {best.name} ({select_kind} {select_by} {hybrid[select_by]:.3f})")

# %% [markdown]
# ## Result confidence
# `high` / `medium` / `low` on every result (`heimdex_lab.search.confidence`): an exact-word
# match, or a text or screen cosine over the thresholds fitted here
# (`heimdex_lab.eval.confidence.fit_thresholds`). Settings `confidence_high` and
# `confidence_medium` hold the values fitted on the lectures and the samples (README).

# %%
from heimdex_lab.eval.confidence import collect_evidence, fit_thresholds, rates

evidence = collect_evidence(lib, queries_path)
for extra in confidence_sets:
    other = Library.open(tracking.resolve(extra["library"], root), **models)
    evidence += collect_evidence(other, tracking.resolve(extra["queries"], root))
confidence_high, confidence_medium = fit_thresholds(evidence, confidence_target)
confidence_rates = {"all": rates(evidence, confidence_high, confidence_medium)}
for name in sorted({row["set"] for row in evidence}):
    subset = [row for row in evidence if row["set"] == name]
    confidence_rates[name] = rates(subset, confidence_high, confidence_medium)
print(f"fitted: high {confidence_high:.2f}, medium {confidence_medium:.2f} "
      f"(configured: {lib.settings.confidence_high:.2f}, {lib.settings.confidence_medium:.2f})")
pl.DataFrame([{"set": name, **values} for name, values in confidence_rates.items()])

# %%
with tracking.run("20_eval_retrieval", run_id=mlflow_run_id):
    tracking.log_params(
        {"models": lib.settings.models_used(), "fusion": fusion, "weights": weights,
         "sweep": sweep, "queries": queries, "text_models": text_models, "fusions": fusions,
         "exact_first": exact_first, "best_keyword_weight": best.weights["keyword"],
         "best_setting": best.name, "granularities": granularities, "rerank": rerank,
         "short_keyword_weights": short_keyword_weights, "confidence_high": confidence_high,
         "confidence_medium": confidence_medium, "confidence_target": confidence_target,
         "confidence_sets": confidence_sets}
    )
    for name, values in confidence_rates.items():  # all: every set together
        prefix = "confidence_fit." if name == "all" else f"confidence_fit.{name}."
        tracking.log_metrics_dict(values, prefix=prefix)
    for unit, seconds in embed_seconds.items():  # what embedding the library's units cost
        mlflow.log_metric(f"embed_s.{unit.replace(' ', '.').replace('+', '_')}", seconds)
    for point, report, seconds in result.points:
        with mlflow.start_run(run_name=point.name, nested=True):
            tracking.log_params(point.params)
            tracking.log_report(report)
            mlflow.log_metric("eval_s", seconds)
    tracking.log_report(best_report)
    tracking.log_frame(table, "sweep.parquet")
    tracking.log_frame(best_report.frame, "per_query.parquet")
