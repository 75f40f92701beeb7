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
# # 30 · People: enrol from photos, review matches, name unknown faces
# Enrol a person from photos with exactly one face each; every stored face is matched again
# (no video is re-ingested). Unknown faces are grouped by likeness so they can be named here.

# %% tags=["parameters"]
library: str = ""  # library directory; empty: $HEIMDEX_LIBRARY, else data/library
enrol: dict = {"Grace Hopper": ["matplotlib:grace_hopper.jpg"]}  # name -> photo paths
name_groups: dict = {}  # group id (from the table below) -> name to give that group

# %%
import os

import polars as pl
from IPython.display import HTML, display

from heimdex_lab import Library, tracking
from heimdex_lab.widgets import face_gallery, sample_photo

lib = Library.open(
    tracking.resolve(library or os.environ.get("HEIMDEX_LIBRARY", "data/library"))
)

# %% [markdown]
# Enrol (paths are relative to the repository root; `matplotlib:NAME` is a photo shipped with
# matplotlib, `skimage:NAME` one shipped with scikit-image):

# %%
for name, photos in enrol.items():
    result = lib.add_person(name, [sample_photo(p) for p in photos])
    print(f"{result.name}: {result.photos} photo(s), found in {result.faces_found} face(s)")
lib.people_list().frame

# %% [markdown]
# Who was found where:

# %%
for person in lib.people_list():
    page = lib.search("", people=[person.name], k=50)
    display(HTML(f"<h4>{person.name}: {page.total} scene(s)</h4>"))
    display(page.frame.select("filename", "start", "end", "text"))

# %% [markdown]
# Unnamed faces, grouped by likeness. Put a group id and a name in `name_groups` to name them.

# %%
groups = lib.people.groups()
display(HTML(face_gallery(lib, groups)))
for group_id, name in name_groups.items():
    print(lib.people.name_group(group_id, name))
pl.DataFrame(
    [{"group_id": g.group_id, "faces": len(g.face_ids), "scenes": len(g.scene_ids)} for g in groups],
    schema={"group_id": pl.String, "faces": pl.Int64, "scenes": pl.Int64},
)
