"""`heimdex serve`: one uvicorn process serving the JSON API, media, health and metrics, and the
Panel app at ``/`` (mounted with ``panel.io.fastapi``); app and API share one ingest worker."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from slowapi import Limiter
from starlette.exceptions import HTTPException as StarletteHTTPException

from heimdex_lab.api import auth, supabase_auth
from heimdex_lab.api.deps import ApiError, ServerContext, rate_key
from heimdex_lab.api.observe import AccessLog, Metrics
from heimdex_lab.config import Settings
from heimdex_lab.errors import HeimdexError, ModelUnavailable, NotFound, UsageError, VideoConflict
from heimdex_lab.ingest.worker import worker_for
from heimdex_lab.store.catalog import Catalog

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[1] / "ui" / "templates"

# Paths that answer without the sign-in cookie: they check a token or signature themselves,
# or are the public pieces of a page (sign-in, static assets, health, docs).
_OPEN_PREFIXES = ("/api/", "/media/", "/login", "/logout", "/healthz", "/readyz", "/metrics",
                  "/docs", "/openapi.json", "/static", "/components/", "/favicon.ico")  # fmt: skip


# Errors: always JSON {error, detail}, never a traceback -------------------------------------

_STATUS_OF: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (VideoConflict, 409, "conflict"),  # the error is its code: busy, rejected, ready
    (UsageError, 400, "bad_request"),
    (ModelUnavailable, 503, "model_unavailable"),
)


def _json_error(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (``Allow`` of a 405)."""
    from heimdex_lab.api.routers import ROUTERS

    methods: set[str] = set()
    for route in [*request.app.router.routes, *(r for api in ROUTERS for r in api.routes)]:
        if isinstance(route, APIRoute) and route.path_regex.match(request.scope["path"]):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _install_error_handlers(app: FastAPI) -> None:
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "conflict", 413: "too_large",
             415: "unsupported_type", 422: "invalid_request", 429: "rate_limited"}  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error = getattr(exc, "error", None) or codes.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names one route's methods; a path has several
            headers["Allow"] = _allowed_methods(request)
        return _json_error(exc.status_code, error, detail, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}"
            for e in exc.errors()
        )
        return _json_error(422, "invalid_request", problems)

    @app.exception_handler(HeimdexError)
    async def heimdex_error(_request: Request, exc: HeimdexError) -> Response:
        for kind, status, error in _STATUS_OF:
            if isinstance(exc, kind):
                return _json_error(status, getattr(exc, "code", error), str(exc))
        return _json_error(422, type(exc).__name__.lower(), str(exc))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", "?")
        log.error("request %s failed", request_id, exc_info=exc)
        return _json_error(500, "internal", f"the server failed on request {request_id}; "
                           "its log has the details")  # fmt: skip


# The pages: sign-in, and the guard in front of the Panel app -------------------------------


class BodyLimit:
    """ASGI middleware: request bodies over a size limit are refused (413) as they arrive, with
    or without a Content-Length. Video uploads check their own, larger, limit while streaming."""

    PHOTOS = 64 * 1024 * 1024  # several enrolment photos in one request
    OTHER = 1024 * 1024  # JSON bodies and forms

    def __init__(self, app: Any) -> None:
        self.app = app

    def _limit(self, path: str) -> int | None:
        if path == "/api/v1/videos":
            return None
        return self.PHOTOS if path.endswith("/photos") else self.OTHER

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        limit = self._limit(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _json_error(413, "too_large", f"the request body is over {limit:,} bytes")(
                scope, receive, send
            )
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ApiError(413, "too_large", f"the request body is over {limit:,} bytes")
            return message

        await self.app(scope, counted, send)


# What a page of this server may run and load (docs/security.md: why each source, and the gaps).
# Bokeh writes each page's document as inline <script> blocks that change per session, with no
# nonce, so inline <script> elements stay allowed; 'unsafe-eval' is for the template's
# ReactiveHTML (new Function), blob: for JSComponent modules. Inline event handlers (onerror=,
# onclick=), plugins, a foreign <base> and framing by other sites are refused.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "script-src-attr 'none'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self' blob:",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])  # fmt: skip


class SecurityHeaders:
    """ASGI middleware: every HTTP answer carries the Content-Security-Policy and nosniff."""

    def __init__(self, app: Any, policy: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class SignInGuard:
    """ASGI middleware: with accounts on, the Panel page and its websocket need the cookie."""

    def __init__(self, app: Any, secret: str) -> None:
        self.app, self.secret = app, secret

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(_OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        from http.cookies import SimpleCookie

        cookies: SimpleCookie = SimpleCookie()
        for name, value in scope.get("headers") or []:
            if name == b"cookie":
                cookies.load(value.decode("latin-1"))
        morsel = cookies.get(auth.COOKIE)
        if auth.cookie_user(self.secret, morsel.value if morsel else None):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
        else:
            from urllib.parse import quote

            target = scope["path"] + (
                "?" + scope["query_string"].decode() if scope["query_string"] else ""
            )
            await RedirectResponse(f"/login?next={quote(target)}", 303)(scope, receive, send)


def _page(name: str, **values: Any) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True)
    return env.from_string((TEMPLATES / name).read_text()).render(**values)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would let a link send users anywhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _install_pages(app: FastAPI, ctx: ServerContext) -> None:
    from heimdex_lab.ui.accounts import check_password

    @app.get("/login", include_in_schema=False)
    def login_page(next: str = "/") -> HTMLResponse:
        return HTMLResponse(_page("login.html", login_endpoint="/login", next=_safe_next(next)))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        target = _safe_next(str(form.get("next", "/")))
        if not check_password(password, ctx.catalog.accounts.password_hash(name)):
            name = await _supabase_sign_in(ctx, name, password) or ""
        if not name:
            page = _page("login.html", login_endpoint="/login", next=target,
                         errormessage="Invalid username or password")  # fmt: skip
            return HTMLResponse(page, status_code=401)
        response = RedirectResponse(target, 303)
        response.set_cookie(auth.COOKIE, auth.cookie_value(ctx.secret, name), httponly=True,
                            samesite="lax", max_age=auth.COOKIE_DAYS * 86400)  # fmt: skip
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it whatever the page says
        import panel

        icon = Path(panel.__file__).parent / "dist" / "images" / "favicon.ico"
        return FileResponse(icon, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/logout", include_in_schema=False)
    def logout() -> HTMLResponse:
        response = HTMLResponse(_page("logout.html", LOGIN_ENDPOINT="/login"))
        response.delete_cookie(auth.COOKIE)
        return response


async def _supabase_sign_in(ctx: ServerContext, email: str, password: str) -> str | None:
    """The Heimdex user of a Supabase Auth sign-in (its user id), when Supabase is configured."""
    if not (ctx.settings.supabase_url and ctx.settings.supabase_jwt_secret) or "@" not in email:
        return None
    from starlette.concurrency import run_in_threadpool

    user = await run_in_threadpool(supabase_auth.sign_in, ctx.settings, email, password)
    return user.name if user is not None else None


def create_app(settings: Settings, no_auth: bool, panel_app: bool = True,
               origins: list[str] | None = None) -> FastAPI:  # fmt: skip
    """The whole server as an ASGI app (``panel_app=False`` leaves out the Panel mount)."""
    from fastapi_offline import FastAPIOffline

    from heimdex_lab.api.routers import ROUTERS
    from heimdex_lab.ui.accounts import cookie_secret

    settings.library.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(settings.catalog_url)
    worker = worker_for(settings)
    metrics = Metrics(catalog.state_counts, worker.queue_length)
    worker.stage_observers.append(metrics.observe_stage)
    limiter = Limiter(key_func=rate_key, storage_uri="memory://", strategy="moving-window")
    ctx = ServerContext(settings, no_auth, cookie_secret(settings.library), catalog, worker,
                        metrics, limiter)  # fmt: skip

    app = FastAPIOffline(
        title="Heimdex Lab",
        version="1",
        summary="Search your videos by what is said and shown.",
        description="Upload videos, follow their ingest, search scenes, preview them, enrol "
        "people. Authenticate with `Authorization: Bearer <token>` "
        "(`heimdex users token NAME`). Errors are `{error, detail}`.",
        static_url="/docs-static",
    )
    app.state.heimdex = ctx
    _install_error_handlers(app)
    _install_pages(app, ctx)
    for router in ROUTERS:
        app.include_router(router)
    if panel_app:
        _mount_panel(app, ctx, origins or [])
    if not no_auth:
        app.add_middleware(SignInGuard, secret=ctx.secret)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog, metrics=metrics)
    app.router.on_shutdown.append(ctx.close)
    return app


def _mount_panel(app: FastAPI, ctx: ServerContext, origins: list[str]) -> None:
    import panel as pn
    from panel.io.fastapi import add_applications

    from heimdex_lab.ui.app import page

    def session() -> Any:  # a plain function: Panel calls it for each new page session
        return page(ctx.settings, no_auth=ctx.no_auth, api=True)

    # The app reads pn.state.user from our cookie, checked with this secret.
    pn.config.cookie_secret = ctx.secret  # type: ignore[misc]
    ours = {id(route) for route in app.routes}
    add_applications({"/": session}, app=app, title="Heimdex Lab", websocket_origin=origins)
    for route in app.routes:  # the app's pages are HTML, not part of the API's schema
        if isinstance(route, APIRoute) and id(route) not in ours:
            route.include_in_schema = False


def serve(settings: Settings, port: int, address: str, no_auth: bool) -> None:
    """Serve everything at ``http://address:port/`` until interrupted."""
    import uvicorn

    origins = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    app = create_app(settings, no_auth, origins=origins)
    import torch  # CLIP's text encoder runs on it; set before any model runs

    from heimdex_lab.embed.text import set_threads

    torch.set_num_threads(settings.serve_torch_threads)
    set_threads(settings.serve_torch_threads)  # the text model's onnxruntime session
    from heimdex_lab.search.warm import MAX_OWNERS, warm_up

    catalog = app.state.heimdex.catalog
    warm_up(settings, [settings.user] if no_auth else catalog.busiest_owners(MAX_OWNERS))
    access = logging.getLogger("heimdex_lab.access")
    handler = logging.StreamHandler()  # stderr: one JSON document per line
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    uvicorn.run(app, host=address, port=port, log_level="warning", access_log=False,
                ws_max_size=32 * 1024 * 1024)  # fmt: skip
