"""What request handlers depend on: the server's shared state, the caller, their Library and
the rate limit. Routers import these; the server builds the state (no routers↔server cycle)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from heimdex_lab.api import auth, supabase_auth
from heimdex_lab.api.observe import Metrics
from heimdex_lab.config import Settings
from heimdex_lab.library import Library
from heimdex_lab.store.catalog import Catalog

if TYPE_CHECKING:
    from slowapi import Limiter

    from heimdex_lab.ingest.worker import IngestWorker


class ApiError(StarletteHTTPException):
    """An HTTP error with a short machine-readable code: ``{"error": code, "detail": …}``."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(status, detail, headers)
        self.error = error


@dataclass
class ServerContext:
    """What every request handler shares: settings, the catalog, the worker, metrics."""

    settings: Settings
    no_auth: bool
    secret: str
    catalog: Catalog
    worker: IngestWorker
    metrics: Metrics
    limiter: Limiter
    searches: threading.BoundedSemaphore = field(init=False)  # serve_max_searches at once
    _libraries: dict[str, Library] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.searches = threading.BoundedSemaphore(self.settings.serve_max_searches)

    def library(self, user: str) -> Library:
        """One open Library per user for the server's life (catalog engine and vectors reused)."""
        with self._lock:
            if user not in self._libraries:
                self._libraries[user] = Library(self.settings.model_copy(update={"user": user}))
            return self._libraries[user]

    def close(self) -> None:
        with self._lock:
            for lib in self._libraries.values():
                lib.close()
            self._libraries.clear()
        self.catalog.close()


async def context(request: Request) -> ServerContext:
    # async: FastAPI then runs it on the loop, not through a thread-pool hop per request.
    ctx: ServerContext = request.app.state.heimdex
    return ctx


# Declared for /docs ("Authorize") and clients; `user_of` reads the header itself, since a
# signed-in browser sends the cookie instead.
_bearer = HTTPBearer(auto_error=False, description="`heimdex users token NAME` makes one")


async def current_user(
    request: Request,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller (see `user_of`); async for the same reason as `context`."""
    return user_of(request)


def user_of(request: Request) -> str:
    """The caller: a bearer token, else the app's sign-in cookie, else the CLI user (--no-auth)."""
    ctx: ServerContext = request.app.state.heimdex
    header = request.headers.get("authorization")
    user = auth.bearer_user(ctx.catalog, header)
    if user is None and header:  # a Supabase access token, when Supabase Auth is configured
        user = supabase_auth.bearer_user(ctx.settings, header)
    if user is None and header:
        raise ApiError(401, "unauthorized", "the bearer token is not valid",
                       {"WWW-Authenticate": "Bearer"})  # fmt: skip
    user = user or auth.cookie_user(ctx.secret, request.cookies.get(auth.COOKIE))
    if user is None and ctx.no_auth:
        user = ctx.settings.user
    if user is None:
        raise ApiError(
            401, "unauthorized",
            "send 'Authorization: Bearer <token>' (make one with `heimdex users token NAME`)",
            {"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    request.state.user = user
    return user


def rate_key(request: Request) -> str:
    """Rate limits count per token (or per signed-in user, or per client address)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return "token:" + auth.token_sha256(header[7:].strip())[:24]
    if user := getattr(request.state, "user", None):
        return f"user:{user}"
    return "addr:" + (request.client.host if request.client else "unknown")


Ctx = Annotated[ServerContext, Depends(context)]
User = Annotated[str, Depends(current_user)]


async def rate_limit(request: Request, ctx: Ctx, _user: User) -> None:
    """Count the request against the caller's ``api_rate_limit``; over it: 429 + Retry-After.
    After `current_user`, so a request without valid credentials is 401 and not counted."""
    from limits import parse

    item = parse(ctx.settings.api_rate_limit)
    window = ctx.limiter.limiter  # the `limits` strategy (moving window) behind slowapi's Limiter
    key = rate_key(request)
    if not window.hit(item, "api", key):
        reset, _remaining = window.get_window_stats(item, "api", key)
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, "rate_limited", f"too many requests: {item}; retry later",
                       {"Retry-After": str(retry)})  # fmt: skip


def library(ctx: Ctx, user: User) -> Library:
    """The caller's Library: every query through it is the caller's (another's id: 404).
    Sync: the first call per user opens its catalog, which must not block the event loop."""
    return ctx.library(user)


Lib = Annotated[Library, Depends(library)]
