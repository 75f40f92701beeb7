"""Serving stored videos to their owner, with HTTP range requests so the player can seek."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tornado.web import HTTPError, StaticFileHandler

from heimdex_lab.config import Settings
from heimdex_lab.errors import NotFound


class MediaHandler(StaticFileHandler):
    """``/media/<video_id>``: the stored file, for its owner only; 404 for anyone else."""

    def initialize(  # type: ignore[override]
        self, settings: Settings, user_of: Callable[[Any], str | None]
    ) -> None:
        self.heimdex = settings
        self.user_of = user_of
        super().initialize(path=str((settings.library / "media").resolve()))

    async def get(self, video_id: str, include_body: bool = True) -> None:
        from heimdex_lab.library import Library

        user = self.user_of(self)
        if user is None:
            raise HTTPError(403)
        lib = Library(self.heimdex.model_copy(update={"user": user}))
        try:
            media: Path = lib.media_path(video_id)
        except NotFound:
            raise HTTPError(404) from None
        finally:
            lib.close()
        await super().get(media.name, include_body)
