"""`heimdex serve`: the Panel app and the media route on one Tornado server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from heimdex_lab.app.media import MediaHandler
from heimdex_lab.config import Settings

log = logging.getLogger(__name__)

APP = Path(__file__).resolve().parents[2] / "apps" / "heimdex_app.py"


def session_user(settings: Settings, no_auth: bool) -> Any:
    """How a request handler learns its user: the fixed CLI user, or the signed-in one."""

    def user_of(handler: Any) -> str | None:
        if no_auth:
            return settings.user
        cookie = handler.get_secure_cookie("user")
        return cookie.decode() if cookie else None

    return user_of


def serve(settings: Settings, port: int, address: str, no_auth: bool, show: bool = False) -> None:
    """Serve the app at ``http://address:port/`` until interrupted."""
    import os

    import panel as pn

    if not APP.is_file():
        raise FileNotFoundError(f"app file {APP} is missing")
    os.environ["HEIMDEX_LIBRARY"] = str(settings.library.resolve())
    os.environ["HEIMDEX_USER"] = settings.user
    os.environ["HEIMDEX_APP_NO_AUTH"] = "1" if no_auth else "0"
    origin = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    pattern = (r"/media/([^/]+)", MediaHandler,
               {"settings": settings, "user_of": session_user(settings, no_auth)})  # fmt: skip
    auth: dict[str, Any] = {}
    if not no_auth:
        from heimdex_lab.app.accounts import auth_provider, cookie_secret

        auth = {
            "auth_provider": auth_provider(settings),
            "cookie_secret": cookie_secret(settings.library),
        }
    pn.serve(
        {"/": str(APP)},
        **auth,
        port=port,
        address=address,
        websocket_origin=origin,
        show=show,
        title="Heimdex Lab",
        extra_patterns=[pattern],
        websocket_max_message_size=settings.max_upload_bytes + (1 << 20),
    )
