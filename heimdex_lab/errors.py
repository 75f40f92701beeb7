"""Exceptions raised by Heimdex Lab; every message says what failed and what to do about it."""

from __future__ import annotations


class HeimdexError(Exception):
    """Base class of every error Heimdex raises on purpose."""


class InvalidVideo(HeimdexError):
    """A file was rejected at validation; nothing of it was stored."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ModelUnavailable(HeimdexError):
    """A configured model cannot be loaded on this machine."""


class NotFound(HeimdexError):
    """An id (video, scene, person) that does not exist for this user."""


class UsageError(HeimdexError):
    """The caller asked for something that cannot be done as asked (bad flag, empty query)."""


class VideoConflict(UsageError):
    """A video that cannot be changed as asked in its present state; ``code`` says why."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class NotResumable(VideoConflict):
    """A video that cannot be resumed now; ``code`` says why: busy, rejected or ready."""


class VideoBusy(VideoConflict):
    """A video another live process is ingesting (``code`` "busy")."""


class MissingExtra(UsageError, ImportError):
    """A feature whose optional dependencies (a pip extra) are not installed (extras.py)."""

    def __init__(self, feature: str, extra: str, module: str | None) -> None:
        missing = f" ({module} is not installed)" if module else ""
        super().__init__(
            f"{feature} needs the {extra} extra: pip install 'heimdex-lab[{extra}]'{missing}"
        )
        self.feature, self.extra, self.module = feature, extra, module
