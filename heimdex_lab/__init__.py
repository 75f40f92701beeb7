"""Heimdex Lab: search your videos by what is said and shown in them.

``from heimdex_lab import Library``; see README.md for the CLI, notebooks and app.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Offline by default: nothing here may reach a model hub or phone home. A user who has a hub
# sets HF_HUB_OFFLINE=0 explicitly (or runs `heimdex models fetch`).
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}.items():
    os.environ.setdefault(_key, _value)

__version__ = "0.1.0"
__all__ = ["Library", "Settings", "__version__"]

if TYPE_CHECKING:
    from heimdex_lab.config import Settings
    from heimdex_lab.library import Library


def __getattr__(name: str) -> Any:
    # Lazy, so `heimdex --help` does not pay for polars and SQLAlchemy.
    if name == "Library":
        from heimdex_lab.library import Library

        return Library
    if name == "Settings":
        from heimdex_lab.config import Settings

        return Settings
    raise AttributeError(name)
