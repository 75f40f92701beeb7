"""Where a first search's time goes, phase by phase, in a new process (benchmarks/cold.py).

    python benchmarks/children/cold_phases.py LIBRARY QUERY

Runs the steps of ``heimdex search QUERY`` one at a time, in the CLI's order, and prints one JSON
list of ``[phase, wall seconds, CPU seconds]`` (CPU: user + system of the whole process, every
thread). The first row is the interpreter's own start-up (CPU spent before this script ran); the
teardown after the last row is measured by the parent (the process's CPU minus the last mark).
"""

from __future__ import annotations

import json
import os
import sys
import time

_rows: list[list[object]] = []
_wall, _cpu = time.perf_counter(), time.process_time()
_rows.append(["interpreter start-up (before the script)", float("nan"), _cpu])


def mark(label: str) -> None:
    global _wall, _cpu
    wall, cpu = time.perf_counter(), time.process_time()
    _rows.append([label, wall - _wall, cpu - _cpu])
    _wall, _cpu = wall, cpu


def main() -> None:
    library, query = sys.argv[1], sys.argv[2]
    import heimdex_lab.cli

    mark("import heimdex_lab.cli (typer)")
    import heimdex_lab.search.engine  # noqa: F401
    from heimdex_lab.library import Library

    mark("import library + engine (pydantic, SQLAlchemy, numpy)")
    lib = Library.open(library)
    mark("Library.open (settings, SQLite catalog)")
    import onnxruntime  # noqa: F401
    import tokenizers

    mark("import onnxruntime, tokenizers")
    from heimdex_lab.embed.registry import locate
    from heimdex_lab.embed.text import text_embedder

    folder, _ = locate("text", lib.settings.text_model)
    tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    mark("tokenizer load (alone, for its share)")
    model = text_embedder(lib.settings.text_model, lib.settings.embed_batch_size)
    mark("text model: ONNX session + tokenizer")
    vector = model.embed([query])[0]
    mark("query embedding (first run)")
    from heimdex_lab.store.vectors import SCENE_TEXT

    lib.vectors.nearest(SCENE_TEXT, model.name, model.dim, vector, 1)
    mark("vectors: exact copy read (or rebuilt from Chroma)")
    lib.search(query)
    mark("search: FTS, kNN, SQL, fusion, snippets")
    lib.search(query)
    mark("the same search again (warm)")
    lib.close()
    mark("close the library")
    print(json.dumps(_rows), flush=True)


if __name__ == "__main__":
    main()
