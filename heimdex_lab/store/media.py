"""Media files: each upload stored once, named by its content hash, never by a user's name."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from heimdex_lab.store.blobs import BlobStore, atomic_target

_CHUNK = 1 << 20
# A browser-playable copy sits next to the file it was made from: ``<sha256>.proxy.<ext>``.
PROXY_TAG = "proxy"
PROXY_EXTS = ("mp4", "webm")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def upload_dir(library: Path) -> Path:
    """Where received uploads wait for ingest, under names of ours (never the user's)."""
    folder = library / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class MediaStore:
    """``<library>/media/<sha256>.<ext>`` (+ ``<sha256>.proxy.<ext>`` where the browser needs
    one) and ``<library>/keyframes/<video_id>/``."""

    def __init__(self, library: Path, remote: BlobStore | None = None) -> None:
        self.media_dir = library / "media"
        # A remote store (Supabase Storage) is the store of record; media_dir then caches it.
        self.remote = remote
        self.keyframes_dir = library / "keyframes"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.keyframes_dir.mkdir(parents=True, exist_ok=True)

    def put(self, source: Path, sha256: str, container: str) -> str:
        """Copy ``source`` in (atomically: temp file, then rename); return the stored name."""
        name = f"{sha256}.{container}"
        target = self.media_dir / name
        if target.exists():
            if self.remote is not None and not self.remote.exists(name):
                self.remote.put(name, target)
            return name
        with atomic_target(target) as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
        if self.remote is not None:
            self.remote.put(name, target)
        return name

    def path(self, name: str) -> Path:
        """The local file of ``name``, fetched from the remote store if this machine lacks it."""
        local = self.media_dir / name
        if self.remote is not None and name and not local.is_file() and self.remote.exists(name):
            return self.remote.local_path(name)
        return local

    def remove(self, name: str) -> None:
        """Delete ``name`` here and from the remote store."""
        (self.media_dir / name).unlink(missing_ok=True)
        if self.remote is not None:
            self.remote.delete(name)

    @staticmethod
    def proxy_names(media_name: str) -> list[str]:
        """Every name a proxy of ``media_name`` may have (one per proxy format)."""
        stem = media_name.split(".", 1)[0]
        return [f"{stem}.{PROXY_TAG}.{ext}" for ext in PROXY_EXTS]

    def proxy_target(self, media_name: str, ext: str) -> Path:
        """Where a new proxy of ``media_name`` in format ``ext`` goes."""
        if ext not in PROXY_EXTS:
            raise ValueError(f"unknown proxy format {ext!r} (known: {', '.join(PROXY_EXTS)})")
        return self.media_dir / self.proxy_names(media_name)[PROXY_EXTS.index(ext)]

    def proxy_path(self, media_name: str) -> Path | None:
        """The browser-playable copy of ``media_name``, or None when it has none."""
        for name in self.proxy_names(media_name):
            if (self.media_dir / name).is_file():
                return self.media_dir / name
        return None

    def keyframe_dir(self, video_id: str) -> Path:
        return self.keyframes_dir / video_id
