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
# # 10 · Search the library
# Type what was said or shown; results are ranked scenes with keyframes and time ranges.
# Everything here calls `heimdex_lab`; the same search is `heimdex search "…"` on the command line.

# %% tags=["parameters"]
library: str = ""  # library directory; empty: $HEIMDEX_LIBRARY, else data/library
query: str = "the rocket launch and the budget"  # an example query to start with

# %%
import os

from heimdex_lab import Library, tracking
from heimdex_lab.widgets import search_box

lib = Library.open(
    tracking.resolve(library or os.environ.get("HEIMDEX_LIBRARY", "data/library"))
)
lib.videos().frame

# %% [markdown]
# Results as a Polars DataFrame, ready for analysis:

# %%
page = lib.search(query, k=5)
page.frame.select("filename", "start", "end", "score", "score_text", "score_keyword", "snippet")

# %% [markdown]
# The interactive search box (press Enter to search):

# %%
box = search_box(lib)
box.query.value = query
box.run()
box
