"""The optional parts of Heimdex Lab, installed as pip extras (docs/architecture.md §11).

The core (ingest, search, CLI, ``Library``) imports none of them at import time. Each place that
needs one imports it inside ``with needs("app", "heimdex serve"):``, so a missing extra is one
message naming it, ``heimdex serve needs the app extra: pip install 'heimdex-lab[app]'``, and
not a traceback from deep inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from heimdex_lab.errors import MissingExtra

EXTRAS = {
    "app": "the web app and HTTP API (`heimdex serve`, accounts)",
    "lab": "notebooks, widgets, MLflow tracking and `make batch` (papermill)",
    "scale": "Ray ingest, the PostgreSQL catalog, Supabase storage and sign-in",
}


@contextmanager
def needs(extra: str, feature: str) -> Iterator[None]:
    """Turn an ImportError of a third-party module inside the block into ``MissingExtra``."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}: one of {', '.join(EXTRAS)}")
    try:
        yield
    except ImportError as exc:
        if isinstance(exc, MissingExtra):
            raise
        module = exc.name or ""
        if module.split(".")[0] == "heimdex_lab":  # our own bug, not a missing install
            raise
        raise MissingExtra(feature, extra, module or None) from exc
