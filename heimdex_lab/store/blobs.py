"""Where stored files live: a local directory (default) or a Supabase Storage bucket.

Names are flat (``<sha256>.<ext>``, as MediaStore makes them), so a name always means the same
bytes: a copy cached on local disk never goes stale.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from heimdex_lab.config import Settings
from heimdex_lab.errors import HeimdexError, NotFound
from heimdex_lab.extras import needs

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_LIST_PAGE = 1000  # names per Storage list call
_SIGNED_URL_S = 300  # lifetime of the signed URL a download or range read goes through
_TIMEOUT_S = 60.0  # per HTTP call to Supabase (a large upload streams within it)


class StorageUnavailable(HeimdexError):
    """The storage backend refused or could not be reached (belongs in errors.py)."""


@runtime_checkable
class BlobStore(Protocol):
    """Files by name: put, read (a byte range, or the whole file on local disk), delete, list."""

    def put(self, name: str, source: Path) -> None:
        """Store ``source`` as ``name`` (replacing a file of that name)."""
        ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove ``name``; a name that is not there is not an error."""
        ...

    def names(self) -> list[str]:
        """Every stored name, sorted."""
        ...

    def read(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        """``length`` bytes of ``name`` from ``start`` (to the end when None)."""
        ...

    def local_path(self, name: str) -> Path:
        """A file on this machine holding ``name``'s bytes, to decode or serve with ranges."""
        ...


def _check_name(name: str) -> str:
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"not a stored file name: {name!r} (flat names only)")
    return name


@contextmanager
def atomic_target(target: Path) -> Iterator[Any]:
    """A temporary file in ``target``'s folder, renamed to ``target`` once written whole."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalBlobs:
    """Files in one local directory (the default: ``<library>/media``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.folder / _check_name(name)

    def put(self, name: str, source: Path) -> None:
        with atomic_target(self._path(name)) as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        return sorted(
            p.name for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")
        )

    def read(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        try:
            with open(self._path(name), "rb") as fh:
                fh.seek(start)
                return fh.read() if length is None else fh.read(length)
        except FileNotFoundError:
            raise NotFound(f"no stored file {name!r} in {self.folder}") from None

    def local_path(self, name: str) -> Path:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(f"no stored file {name!r} in {self.folder}")
        return path


class SupabaseBlobs:
    """Files in a Supabase Storage bucket, through supabase-py (``storage3``).

    ``key`` is the service-role key: this runs on the server, never in a browser. Reads go
    through short-lived signed URLs, which honour HTTP ranges, so a video is never held in
    memory whole; ``local_path`` downloads into ``cache`` once per name.
    """

    def __init__(self, url: str, key: str, bucket: str, cache: Path | None = None) -> None:
        with needs("scale", "Supabase Storage (HEIMDEX_SUPABASE_URL)"):
            import httpx
            from supabase import ClientOptions, create_client

        # Our own httpx client: the one supabase-py would build warns about deprecated
        # arguments, and we need it for signed URLs too. No PostgREST retries: a wrong URL
        # should fail now, not after ~7 s of supabase-py's retries.
        self._http = httpx.Client(timeout=_TIMEOUT_S, follow_redirects=True)
        options = ClientOptions(httpx_client=self._http, postgrest_client_retry=False)
        self.url = url.rstrip("/")
        self.bucket = bucket
        self._bucket = create_client(self.url, key, options).storage.from_(bucket)
        self.cache = cache or Path(tempfile.gettempdir()) / "heimdex-blobs" / bucket
        self.cache.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _calling(self, what: str, name: str = "") -> Iterator[None]:
        """Storage and network errors as one actionable HeimdexError."""
        import httpx
        from storage3.exceptions import StorageApiError

        try:
            yield
        except StorageApiError as exc:
            if str(exc.status) == "404" and name:
                raise NotFound(f"no stored file {name!r} in bucket {self.bucket!r}") from exc
            raise StorageUnavailable(
                f"Supabase Storage at {self.url} refused to {what} {name!r} in bucket "
                f"{self.bucket!r}: {exc.message} (check HEIMDEX_SUPABASE_KEY and that the "
                "bucket exists)"
            ) from exc
        except httpx.HTTPError as exc:
            raise StorageUnavailable(
                f"Supabase Storage at {self.url} could not {what} {name!r}: {exc} "
                "(check HEIMDEX_SUPABASE_URL and the network)"
            ) from exc

    def put(self, name: str, source: Path) -> None:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        with self._calling("store", _check_name(name)):
            self._bucket.upload(name, source, {"content-type": content_type, "upsert": "true"})

    def exists(self, name: str) -> bool:
        with self._calling("look up", _check_name(name)):
            return bool(self._bucket.exists(name))

    def delete(self, name: str) -> None:
        with self._calling("delete", _check_name(name)):
            self._bucket.remove([name])
        (self.cache / name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        found: list[str] = []
        with self._calling("list"):
            while True:
                page = self._bucket.list("", {"limit": _LIST_PAGE, "offset": len(found)})
                # Folders come back with no id; this store writes none, but skip them anyway.
                found += [item["name"] for item in page if item.get("id") is not None]
                if len(page) < _LIST_PAGE:
                    return sorted(found)

    def signed_url(self, name: str, expires_s: int = _SIGNED_URL_S) -> str:
        """A URL anyone can GET (with ranges) for ``expires_s`` seconds: a player can be sent
        there instead of streaming the video through this server."""
        with self._calling("sign", _check_name(name)):
            return str(self._bucket.create_signed_url(name, expires_s)["signedURL"])

    def read(self, name: str, start: int = 0, length: int | None = None) -> bytes:
        if length == 0:
            return b""
        end = "" if length is None else str(start + length - 1)
        url = self.signed_url(name)
        with self._calling("read", name):
            response = self._http.get(url, headers={"Range": f"bytes={start}-{end}"})
            if response.status_code == 416:  # the range starts past the end
                return b""
            response.raise_for_status()
        if response.status_code == 206:
            return response.content
        # A server that ignores ranges sends the whole file.
        return response.content[start : None if length is None else start + length]

    def local_path(self, name: str) -> Path:
        target = self.cache / _check_name(name)
        if target.is_file():
            return target
        url = self.signed_url(name)
        log.info("downloading %s from bucket %s", name, self.bucket)
        with (
            self._calling("download", name),
            atomic_target(target) as out,
            self._http.stream("GET", url) as response,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
        return target


def blob_store(settings: Settings, folder: Path) -> BlobStore:
    """The configured store: Supabase Storage when ``supabase_url`` is set, else ``folder``,
    which then caches the downloaded files (a name is content-addressed: a copy stays valid)."""
    if not settings.supabase_url:
        return LocalBlobs(folder)
    if settings.supabase_key is None:
        raise HeimdexError(
            "HEIMDEX_SUPABASE_URL is set but HEIMDEX_SUPABASE_KEY is not: set the project's "
            "service-role key, or unset the URL to keep media in the library directory"
        )
    return SupabaseBlobs(
        settings.supabase_url,
        settings.supabase_key.get_secret_value(),
        settings.supabase_bucket,
        cache=folder,
    )
