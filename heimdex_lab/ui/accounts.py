"""Local accounts for the web app: bcrypt password hashes in the catalog, Panel sign-in pages.

The login and logout pages are our own: Panel's default ones load images from a CDN, which an
offline machine cannot reach.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from heimdex_lab.errors import UsageError
from heimdex_lab.extras import needs
from heimdex_lab.store.catalog import Catalog

MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    with needs("app", "accounts (heimdex users add)"):
        import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, hashed: str | None) -> bool:
    with needs("app", "accounts (sign-in)"):
        import bcrypt

    if not hashed:
        return False
    return bool(bcrypt.checkpw(password.encode(), hashed.encode()))


def user_name(name: str) -> str:
    """A usable account name (trimmed): printable, no slashes, at most 128 characters."""
    name = name.strip()
    if not name or len(name) > 128 or any(not ch.isprintable() or ch in "/\\\\" for ch in name):
        raise UsageError(f"not a usable user name: {name!r}")
    return name


def add_user(catalog: Catalog, name: str, password: str) -> None:
    name = user_name(name)
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password needs at least {MIN_PASSWORD} characters")
    catalog.accounts.set_password(name, hash_password(password))


def cookie_secret(library: Path) -> str:
    """A per-library secret for signed cookies, made once and kept private (mode 0600)."""
    path = library / ".cookie_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
