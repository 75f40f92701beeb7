"""Warm-up at server start: the first search after `heimdex serve` costs what the tenth does.

A first search in a process loads the text model (an onnxruntime session), reads the
library's vectors (their exact copy, or Chroma and its index where there is none) and imports
the search code; done here, on a background thread while the server starts, a user's first
query finds them ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from heimdex_lab.config import Settings

log = logging.getLogger(__name__)

WARM_QUERY = "what was said in the first scene"
MAX_OWNERS = 8  # libraries of the users with the most ready videos; others load on first use


def warm_up(settings: Settings, owners: Sequence[str]) -> threading.Thread:
    """Start a daemon thread that runs one search per owner (results dropped). A failure is
    logged and forgotten: the first real search then loads what is missing, as before."""

    def run() -> None:
        from heimdex_lab.library import Library

        start = time.perf_counter()
        for owner in list(owners)[:MAX_OWNERS] or [settings.user]:
            lib = Library(settings.model_copy(update={"user": owner}))
            try:
                if lib.store.videos.ready_ids():
                    lib.search(WARM_QUERY, k=1)
                else:  # nothing to search: load the text model alone
                    from heimdex_lab.embed.text import text_embedder

                    model = text_embedder(settings.text_model, settings.embed_batch_size)
                    model.embed([WARM_QUERY])
            except Exception as exc:  # never stops the server: the first search retries
                log.warning("search warm-up for %s failed: %s", owner, exc)
            finally:
                lib.close()
        log.info("search warm-up done in %.1f s", time.perf_counter() - start)

    thread = threading.Thread(target=run, name="heimdex-search-warm-up", daemon=True)
    thread.start()
    return thread
