"""`panel serve apps/heimdex_app.py --plugins heimdex_lab.ui.plugin`: the player's media route.

``heimdex serve`` runs the FastAPI server (``heimdex_lab.api.server``), which has its own
``/media``; plain ``panel serve`` is Tornado, and reads the extra routes from ``ROUTES`` here.
"""

from __future__ import annotations

import os
from typing import Any

from heimdex_lab.config import Settings
from heimdex_lab.ui.media import MediaHandler


def session_user(settings: Settings, no_auth: bool) -> Any:
    """How a Tornado handler learns its user: the fixed CLI user, or the signed-in one."""

    def user_of(handler: Any) -> str | None:
        if no_auth:
            return settings.user
        cookie = handler.get_secure_cookie("user")
        return cookie.decode() if cookie else None

    return user_of


def _routes() -> list[tuple[str, type, dict[str, Any]]]:
    settings = Settings()
    no_auth = os.environ.get("HEIMDEX_APP_NO_AUTH", "1") == "1"
    return [(r"/media/([^/]+)", MediaHandler,
             {"settings": settings, "user_of": session_user(settings, no_auth)})]  # fmt: skip


ROUTES = _routes()
