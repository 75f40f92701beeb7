"""Where a first search's time goes, phase by phase, in a new process (benchmarks/search.py).

python benchmarks/children/cold_phases.py LIBRARY QUERY
"""

from __future__ import annotations

import sys
import time

_last = time.perf_counter()
_start = _last


def mark(label: str) -> None:
    global _last
    now = time.perf_counter()
    print(f"    {label:52s} {now - _last:6.2f} s", flush=True)
    _last = now


def main() -> None:
    library, query = sys.argv[1], sys.argv[2]
    import heimdex_lab.cli  # noqa: F401

    mark("import heimdex_lab.cli (typer)")
    from heimdex_lab.library import Library

    mark("import heimdex_lab.library (polars, SQLAlchemy, ingest)")
    lib = Library.open(library)
    mark("Library.open (catalog)")
    lib.vectors  # noqa: B018
    mark("import chromadb + PersistentClient")
    import onnxruntime  # noqa: F401
    import tokenizers  # noqa: F401

    mark("import onnxruntime, tokenizers")
    from heimdex_lab.embed.text import text_embedder

    text_embedder(lib.settings.text_model).embed(["warm up"])
    mark("load the text model + first embed")
    lib.search(query, mode="text")
    mark("first search, text mode (Chroma segment load, SQL)")
    lib.search(query, mode="hybrid")
    mark("first hybrid search")
    lib.search(query, mode="hybrid")
    mark("second hybrid search")
    print(f"    {'total':52s} {time.perf_counter() - _start:6.2f} s")


if __name__ == "__main__":
    main()
