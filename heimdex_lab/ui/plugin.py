"""`panel serve apps/heimdex_app.py --plugins heimdex_lab.ui.plugin`: the player's media route.

``heimdex serve`` runs the FastAPI server (``heimdex_lab.api.server``), which has its own
``/media``; plain ``panel serve`` is Tornado, and reads the extra routes from ``ROUTES`` here.
"""

from __future__ import annotations

from typing import Any

from heimdex_lab.config import Settings
from heimdex_lab.ui.media import MediaHandler


def panel_auth() -> bool:
    """`panel serve` was given an auth provider: every session then has a signed-in user."""
    import panel as pn

    return bool(pn.config.basic_auth or pn.config.oauth_provider)


def session_user(settings: Settings) -> Any:
    """How a Tornado handler learns its user: the fixed CLI user, or the signed-in one."""

    def user_of(handler: Any) -> str | None:
        if not panel_auth():
            return settings.user
        cookie = handler.get_secure_cookie("user")
        return cookie.decode() if cookie else None

    return user_of


def _routes() -> list[tuple[str, type, dict[str, Any]]]:
    settings = Settings()
    return [(r"/media/([^/]+)", MediaHandler,
             {"settings": settings, "user_of": session_user(settings)})]  # fmt: skip


ROUTES = _routes()
