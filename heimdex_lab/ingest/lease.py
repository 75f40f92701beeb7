"""Ingest leases: which process works on a video, so work survives a crash and is never done twice.

A process claims a video in the catalog before it runs a stage of it and renews the claim while it
works (a heartbeat); the claim lapses ``lease_s`` after the last renewal. A video in a stage whose
claim lapsed (or whose holder on this machine has died) was interrupted: any worker may take it.
The claim is one conditional UPDATE, so two servers on one PostgreSQL catalog never both win it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heimdex_lab.store.catalog import Catalog
    from heimdex_lab.store.schema import VideoRow

log = logging.getLogger(__name__)

_holder: tuple[int, str] | None = None


def holder() -> str:
    """This process's lease name: ``host:pid:nonce`` (the nonce tells a restarted process that
    got the same pid, as in a container, from the one that died)."""
    global _holder
    pid = os.getpid()
    if _holder is None or _holder[0] != pid:  # a forked child is another holder
        _holder = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}")
    return _holder[1]


def holder_is_dead(name: str | None) -> bool:
    """True when ``name`` is a process of this machine that no longer runs. A holder on
    another machine cannot be asked: its lease lapses by time instead."""
    if not name or name == holder():
        return False
    host, _, rest = name.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # our pid, another nonce: an earlier process with this pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite returns naive UTC


def is_live(row: VideoRow, now: datetime | None = None) -> bool:
    """True while some process holds an unexpired claim on the video."""
    if not row.lease_owner or row.lease_until is None:
        return False
    if _aware(row.lease_until) <= (now or datetime.now(UTC)):
        return False
    return not holder_is_dead(row.lease_owner)


def expiry(lease_s: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=lease_s)


def try_claim(catalog: Catalog, video_id: str, lease_s: float) -> bool:
    """Claim the video for this process if nobody else holds a live claim on it."""
    row = catalog.video_by_id(video_id)
    if row is None:
        return False
    breakable = row.lease_owner if holder_is_dead(row.lease_owner) else None
    return catalog.claim(video_id, holder(), expiry(lease_s), breakable)


@contextlib.contextmanager
def heartbeat(catalog: Catalog, video_id: str, lease_s: float) -> Iterator[None]:
    """Renew this process's claim on the video every third of ``lease_s`` until the block
    ends, then release it. A claim lost meanwhile (the process stalled past its lease and
    another took the video) is logged; the stages' upserts keep the outputs whole."""
    stop = threading.Event()
    me = holder()

    def renew() -> None:
        while not stop.wait(lease_s / 3):
            try:
                if not catalog.renew(video_id, me, expiry(lease_s)):
                    log.error("lost the ingest lease of video %s to another worker", video_id)
                    return
            except Exception:  # a catalog hiccup: try again at the next beat
                log.exception("could not renew the ingest lease of video %s", video_id)

    thread = threading.Thread(target=renew, name=f"heimdex-lease-{video_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        catalog.release(video_id, me)
