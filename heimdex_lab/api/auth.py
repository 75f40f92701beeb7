"""Who is asking: bearer tokens (stored hashed), the app's signed cookie, or signed media URLs.

Tokens are random (256 bits), so a SHA-256 of one is a safe and fast lookup key; bcrypt is kept
for passwords, which people choose. The sign-in cookie is Tornado's signed-value format, because
the Panel app reads ``pn.state.user`` from it with the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from heimdex_lab.store.catalog import Catalog

TOKEN_PREFIX = "hx_"
COOKIE = "user"
COOKIE_DAYS = 30


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(catalog: Catalog, user: str) -> str:
    """Make a bearer token for ``user``; only its hash is stored, so print it now or lose it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    catalog.accounts.add_token(user, token_sha256(token))
    return token


def bearer_user(catalog: Catalog, authorization: str | None) -> str | None:
    """The user of an ``Authorization: Bearer …`` header, or None when absent or unknown."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return catalog.accounts.token_user(token_sha256(token.strip()))


def cookie_value(secret: str, user: str) -> str:
    from tornado.web import create_signed_value

    return create_signed_value(secret, COOKIE, user).decode()


def cookie_user(secret: str, value: str | None) -> str | None:
    from tornado.web import decode_signed_value

    if not value:
        return None
    decoded = decode_signed_value(secret, COOKIE, value, max_age_days=COOKIE_DAYS)
    return decoded.decode() if decoded else None


def sign_media(secret: str, video_id: str, expires: int) -> str:
    message = f"media\n{video_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def media_signature_ok(secret: str, video_id: str, expires: str | None, sig: str | None) -> bool:
    """A preview URL's signature: right for this video and not expired."""
    if not expires or not sig or not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(sign_media(secret, video_id, int(expires)), sig)
