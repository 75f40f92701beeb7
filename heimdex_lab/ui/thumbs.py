"""Small pictures inlined in the page (``data:`` URIs): face crops, and keyframes where no HTTP
API serves them (plain `panel serve`)."""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

from PIL import Image

THUMB_PX = 240


def data_uri(path: Path, px: int = THUMB_PX) -> str:
    """The picture at ``path`` scaled to fit ``px`` as a JPEG ``data:`` URI; "" when it is
    missing or unreadable (a card then shows no picture rather than failing)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return ""
    return _encoded(str(path), mtime, px)


@lru_cache(maxsize=1024)
def _encoded(path: str, _mtime: int, px: int) -> str:
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except OSError:
        return ""
    image.thumbnail((px, px))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
