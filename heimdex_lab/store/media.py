"""Media files: each upload stored once, named by its content hash, never by a user's name."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaStore:
    """``<library>/media/<sha256>.<ext>`` and ``<library>/keyframes/<video_id>/``."""

    def __init__(self, library: Path) -> None:
        self.media_dir = library / "media"
        self.keyframes_dir = library / "keyframes"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.keyframes_dir.mkdir(parents=True, exist_ok=True)

    def put(self, source: Path, sha256: str, container: str) -> str:
        """Copy ``source`` in (atomically: temp file, then rename); return the stored name."""
        name = f"{sha256}.{container}"
        target = self.media_dir / name
        if target.exists():
            return name
        fd, tmp = tempfile.mkstemp(dir=self.media_dir, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return name

    def path(self, name: str) -> Path:
        return self.media_dir / name

    def keyframe_dir(self, video_id: str) -> Path:
        return self.keyframes_dir / video_id
