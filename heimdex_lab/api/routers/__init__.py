"""One router per resource of the HTTP API; `heimdex_lab.api.server` includes them all."""

from __future__ import annotations

from heimdex_lab.api.routers import health, media, people, scenes, search, video_page, videos

ROUTERS = (videos.router, video_page.router, search.router, scenes.router, people.router,
           media.router, health.router)  # fmt: skip
