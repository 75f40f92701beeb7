"""The Supabase adapters (docs/architecture.md §9): media in Supabase Storage, Supabase sign-in.

No Supabase can run here, so the adapters talk to a STAND-IN: a small local HTTP server that
implements only the endpoints supabase-py calls for what Heimdex uses, with Supabase's paths,
methods, headers and response shapes (storage-api and GoTrue). It proves our use of supabase-py
and the wire format we rely on; it is not Supabase, and a hosted project is not tested here.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt
import pytest

from heimdex_lab.api import supabase_auth
from heimdex_lab.config import Settings
from heimdex_lab.errors import HeimdexError, NotFound
from heimdex_lab.store import blobs
from heimdex_lab.store.blobs import (
    BlobStore,
    LocalBlobs,
    StorageUnavailable,
    SupabaseBlobs,
    blob_store,
)

KEY = "stand-in-service-role-key"
JWT_SECRET = "stand-in-jwt-secret-at-least-32-characters-long"
BUCKET = "heimdex-media"
USER_ID = "6f1c2a3e-0d4b-4c5e-9f60-7a8b9c0d1e2f"
EMAIL = "ada@example.org"
PASSWORD = "correct horse battery"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "space_talk.mp4"


def _token(secret: str = JWT_SECRET, **claims: Any) -> str:
    """An access token shaped like the ones Supabase Auth issues."""
    now = int(time.time())
    payload = {"sub": USER_ID, "aud": "authenticated", "role": "authenticated", "email": EMAIL,
               "iat": now, "exp": now + 3600, "is_anonymous": False, **claims}  # fmt: skip
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")


class StandInSupabase(BaseHTTPRequestHandler):
    """STAND-IN for Supabase: Storage object endpoints and Auth's password grant, in memory."""

    objects: dict[tuple[str, str], bytes]
    signed: dict[str, tuple[str, str]]

    def log_message(self, *_args: Any) -> None:  # keep the test output clean
        pass

    # Plumbing --------------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if isinstance(body, bytes)
                         else "application/json")  # fmt: skip
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _storage_error(self, status: int, error: str, message: str) -> None:
        self._send(status, {"statusCode": str(status), "error": error, "message": message})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorised(self) -> bool:
        """Storage needs the project key as ``apikey`` and as the bearer token."""
        if self.headers.get("apikey") == KEY and self.headers.get("Authorization") == (
            f"Bearer {KEY}"
        ):
            return True
        self._storage_error(403, "Unauthorized", "invalid signature")
        return False

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        routes: list[tuple[str, str, Callable[..., None]]] = [
            ("POST", r"/auth/v1/token", self._token),
            ("POST", r"/storage/v1/object/list/([^/]+)", self._list),
            ("POST", r"/storage/v1/object/sign/([^/]+)/(.+)", self._sign),
            ("GET", r"/storage/v1/object/sign/([^/]+)/(.+)", self._signed_get),
            ("GET", r"/storage/v1/object/info/([^/]+)/(.+)", self._info),
            ("POST", r"/storage/v1/object/([^/]+)/(.+)", self._upload),
            ("DELETE", r"/storage/v1/object/([^/]+)", self._remove),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                handler(*match.groups(), query=parse_qs(url.query))
                return
        self._storage_error(404, "not_found", f"the stand-in has no {method} {path}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    # Storage (storage-api) ------------------------------------------------------------------

    def _upload(self, bucket: str, name: str, query: Any) -> None:
        if not self._authorised():
            return
        if (bucket, name) in self.objects and self.headers.get("x-upsert") != "true":
            self._storage_error(400, "Duplicate", "The resource already exists")
            return
        # multipart/form-data with a "file" part, as storage3 sends it
        form = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + self._body()
        )
        parts = {part.get_param("name", header="content-disposition"): part
                 for part in form.iter_parts()}  # fmt: skip
        self.objects[(bucket, name)] = parts["file"].get_payload(decode=True)
        self._send(200, {"Key": f"{bucket}/{name}", "Id": str(uuid.uuid4())})

    def _info(self, bucket: str, name: str, query: Any) -> None:
        if not self._authorised():
            return
        if (bucket, name) not in self.objects:
            self._storage_error(404, "not_found", "Object not found")
            return
        self._send(200, {"id": str(uuid.uuid4()), "name": name, "bucket_id": bucket,
                         "size": len(self.objects[(bucket, name)])})  # fmt: skip

    def _remove(self, bucket: str, query: Any) -> None:
        if not self._authorised():
            return
        removed = [{"name": n, "bucket_id": bucket}
                   for n in json.loads(self._body())["prefixes"]
                   if self.objects.pop((bucket, n), None) is not None]  # fmt: skip
        self._send(200, removed)

    def _list(self, bucket: str, query: Any) -> None:
        if not self._authorised():
            return
        body = json.loads(self._body())
        assert body["prefix"] == "", "Heimdex names are flat: it lists the bucket's root"
        names = sorted(n for b, n in self.objects if b == bucket)
        page = names[body["offset"] : body["offset"] + body["limit"]]
        self._send(200, [{"name": n, "id": str(uuid.uuid4()), "metadata": {}} for n in page])

    def _sign(self, bucket: str, name: str, query: Any) -> None:
        if not self._authorised():
            return
        if (bucket, name) not in self.objects:
            self._storage_error(404, "not_found", "Object not found")
            return
        assert int(json.loads(self._body())["expiresIn"]) > 0
        token = uuid.uuid4().hex
        self.signed[token] = (bucket, name)
        self._send(200, {"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})

    def _signed_get(self, bucket: str, name: str, query: Any) -> None:
        """A signed URL needs no key; it honours ``Range: bytes=a-b`` like Supabase."""
        if self.signed.get(query.get("token", [""])[0]) != (bucket, name):
            self._storage_error(400, "InvalidJWT", "invalid signature")
            return
        data = self.objects[(bucket, name)]
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if not ranged:
            self._send(200, data)
            return
        start = int(ranged[1])
        end = min(int(ranged[2]) if ranged[2] else len(data) - 1, len(data) - 1)
        if start >= len(data):
            self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            return
        self._send(206, data[start : end + 1],
                   {"Content-Range": f"bytes {start}-{end}/{len(data)}"})  # fmt: skip

    # Auth (GoTrue) ----------------------------------------------------------------------------

    def _token(self, query: Any) -> None:
        body = json.loads(self._body())
        if query.get("grant_type") != ["password"] or self.headers.get("apikey") != KEY:
            self._send(401, {"code": 401, "error_code": "no_authorization", "msg": "bad key"})
            return
        if (body.get("email"), body.get("password")) != (EMAIL, PASSWORD):
            self._send(400, {"code": 400, "error_code": "invalid_credentials",
                             "msg": "Invalid login credentials"})  # fmt: skip
            return
        now = int(time.time())
        self._send(200, {
            "access_token": _token(), "token_type": "bearer", "expires_in": 3600,
            "expires_at": now + 3600, "refresh_token": "stand-in-refresh",
            "user": {"id": USER_ID, "aud": "authenticated", "role": "authenticated",
                     "email": EMAIL, "app_metadata": {}, "user_metadata": {},
                     "created_at": "2026-01-01T00:00:00Z"},
        })  # fmt: skip


@pytest.fixture(scope="module")
def stand_in() -> Iterator[str]:
    """The stand-in Supabase on a free loopback port; its URL."""
    handler = type("Handler", (StandInSupabase,), {"objects": {}, "signed": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["local", "supabase"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobs(tmp_path / "media")
    url = request.getfixturevalue("stand_in")
    # A bucket per test: the stand-in lives for the module.
    return SupabaseBlobs(url, KEY, f"test-{uuid.uuid4().hex[:8]}", cache=tmp_path / "cache")


# Storage ---------------------------------------------------------------------------------------


def test_a_file_round_trips_through_the_store(store: BlobStore) -> None:
    data = SAMPLE.read_bytes()
    name = "0a1b2c.mp4"
    assert not store.exists(name)
    store.put(name, SAMPLE)
    assert store.exists(name)
    assert store.names() == [name]
    assert store.read(name) == data
    assert store.read(name, 1000, 64) == data[1000:1064]  # what a player's range request needs
    assert store.read(name, len(data) - 10) == data[-10:]
    assert store.read(name, len(data) + 5, 10) == b""
    assert store.local_path(name).read_bytes() == data
    store.put(name, SAMPLE)  # storing the same name again replaces it, no error

    store.delete(name)
    assert not store.exists(name)
    assert store.names() == []
    with pytest.raises(NotFound):
        store.read(name)
    with pytest.raises(NotFound):
        store.local_path(name)  # the local copy of a remote file went with it
    store.delete(name)  # deleting what is gone is fine


def test_names_list_every_page(
    store: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "_LIST_PAGE", 2)
    source = tmp_path / "small.bin"
    source.write_bytes(b"x")
    names = [f"{i:02d}.jpg" for i in range(5)]
    for name in reversed(names):
        store.put(name, source)
    assert store.names() == names
    for name in names:
        store.delete(name)


def test_path_like_names_are_refused(store: BlobStore) -> None:
    for name in ("../catalog.sqlite", "a/b.mp4", ".incoming-x", ""):
        with pytest.raises(ValueError):
            store.exists(name)


def test_a_wrong_key_is_an_actionable_error(stand_in: str, tmp_path: Path) -> None:
    store = SupabaseBlobs(stand_in, "not-the-key", BUCKET, cache=tmp_path)
    with pytest.raises(StorageUnavailable, match="HEIMDEX_SUPABASE_KEY"):
        store.put("a.mp4", SAMPLE)


def test_settings_choose_the_store(stand_in: str, tmp_path: Path) -> None:
    assert isinstance(blob_store(Settings(library=tmp_path), tmp_path / "media"), LocalBlobs)
    hosted = Settings(library=tmp_path, supabase_url=stand_in, supabase_key=KEY)
    store = blob_store(hosted, tmp_path / "media")
    assert isinstance(store, SupabaseBlobs)
    assert store.bucket == "heimdex-media"
    assert KEY not in repr(hosted)  # secrets stay out of logs and recorded settings
    with pytest.raises(HeimdexError, match="HEIMDEX_SUPABASE_KEY"):
        blob_store(Settings(library=tmp_path, supabase_url=stand_in), tmp_path / "media")


# Auth ------------------------------------------------------------------------------------------


def test_a_valid_supabase_token_names_the_user() -> None:
    user = supabase_auth.verify_token(_token(), JWT_SECRET)
    assert user == supabase_auth.SupabaseUser(USER_ID, EMAIL)
    assert user.name == USER_ID
    settings = Settings(supabase_jwt_secret=JWT_SECRET)
    assert supabase_auth.bearer_user(settings, f"Bearer {_token()}") == USER_ID


@pytest.mark.parametrize(
    "token",
    [
        _token(exp=int(time.time()) - 120),  # expired (beyond the clock-skew leeway)
        _token(secret="another-project-secret-also-32-characters"),
        _token(aud="somebody-else"),
        _token(aud=None),
        _token(exp=None),
        _token(is_anonymous=True),
        jwt.encode(
            {"sub": USER_ID, "aud": "authenticated", "exp": int(time.time()) + 60}, None, "none"
        ),
        "hx_not-a-jwt",
    ],
    ids=[
        "expired",
        "wrong-secret",
        "wrong-audience",
        "no-audience",
        "no-expiry",
        "anonymous",
        "alg-none",
        "heimdex-token",
    ],
)
def test_invalid_supabase_tokens_are_refused(token: str) -> None:
    assert supabase_auth.verify_token(token, JWT_SECRET) is None
    settings = Settings(supabase_jwt_secret=JWT_SECRET)
    assert supabase_auth.bearer_user(settings, f"Bearer {token}") is None


def test_supabase_tokens_count_only_when_configured() -> None:
    assert supabase_auth.bearer_user(Settings(), f"Bearer {_token()}") is None
    settings = Settings(supabase_jwt_secret=JWT_SECRET)
    assert supabase_auth.bearer_user(settings, f"Basic {_token()}") is None
    assert supabase_auth.bearer_user(settings, None) is None


def test_sign_in_with_email_and_password(stand_in: str) -> None:
    settings = Settings(supabase_url=stand_in, supabase_key=KEY, supabase_jwt_secret=JWT_SECRET)
    assert supabase_auth.sign_in(settings, EMAIL, PASSWORD) == supabase_auth.SupabaseUser(
        USER_ID, EMAIL
    )
    assert supabase_auth.sign_in(settings, EMAIL, "wrong password") is None
    with pytest.raises(HeimdexError, match="HEIMDEX_SUPABASE_JWT_SECRET"):
        supabase_auth.sign_in(Settings(supabase_url=stand_in, supabase_key=KEY), EMAIL, PASSWORD)


def test_a_library_keeps_its_media_in_the_bucket(
    stand_in: str, tmp_path: Path, copy_sample
) -> None:
    """With Supabase settings the stored video goes to the bucket; a machine without a local
    copy fetches it to play; deleting the video removes it from the bucket."""
    from heimdex_lab import Library

    lib = Library.open(tmp_path / "library", supabase_url=stand_in, supabase_key=KEY)
    (video,) = lib.ingest([copy_sample("silent_coins.webm")], progress=False)
    assert video.state == "ready"
    name = lib.store.videos.get(str(video.video_id)).media_name
    assert name
    bucket = SupabaseBlobs(stand_in, KEY, BUCKET, cache=tmp_path / "elsewhere")
    assert bucket.exists(name)
    (lib.path / "media" / name).unlink()  # as on another machine of the cluster
    played = lib.media_path(str(video.video_id))
    assert played.read_bytes() == (SAMPLE.parent / "silent_coins.webm").read_bytes()
    lib.delete_video(str(video.video_id))
    assert not bucket.exists(name)
