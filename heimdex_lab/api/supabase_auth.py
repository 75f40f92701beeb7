"""Supabase Auth for hosted deployments: a Supabase access token (a JWT) names the Heimdex user.

The token is verified here, offline, with the project's JWT secret (HS256, audience
``authenticated``, not expired), so no request reaches Supabase per API call. The Heimdex user
name is the Supabase user id (``sub``): stable when the email changes, and it cannot be taken
by signing up with the name of a local account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from heimdex_lab.config import Settings
from heimdex_lab.errors import HeimdexError
from heimdex_lab.extras import needs

log = logging.getLogger(__name__)

AUDIENCE = "authenticated"
ALGORITHMS = ["HS256"]  # never taken from the token: that would let it choose "none"
LEEWAY_S = 30  # clock skew between the Supabase host and this one


@dataclass(frozen=True)
class SupabaseUser:
    """A verified Supabase sign-in."""

    id: str
    email: str | None

    @property
    def name(self) -> str:
        """The Heimdex user name (owner of videos, vectors, people)."""
        return self.id


def verify_token(token: str, secret: str) -> SupabaseUser | None:
    """The user a Supabase access token was issued to, or None when it is not valid here
    (bad signature, expired, another audience, anonymous sign-in, malformed)."""
    import jwt

    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            leeway=LEEWAY_S,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.InvalidTokenError as exc:
        log.debug("Supabase token refused: %s", exc)
        return None
    # Anonymous sign-ins need no account: they must not get a library.
    if claims.get("is_anonymous") or not isinstance(claims["sub"], str) or not claims["sub"]:
        return None
    email = claims.get("email")
    return SupabaseUser(claims["sub"], email if isinstance(email, str) and email else None)


def bearer_user(settings: Settings, authorization: str | None) -> str | None:
    """The user of an ``Authorization: Bearer <Supabase access token>`` header, or None (also
    when Supabase Auth is not configured)."""
    if settings.supabase_jwt_secret is None or not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = verify_token(token.strip(), settings.supabase_jwt_secret.get_secret_value())
    return user.name if user else None


def sign_in(settings: Settings, email: str, password: str) -> SupabaseUser | None:
    """Check an email and password with Supabase Auth (for the app's sign-in page); None when
    Supabase refuses them. Raises HeimdexError when Supabase cannot be asked."""
    if not settings.supabase_url or settings.supabase_key is None:
        raise HeimdexError("Supabase sign-in needs HEIMDEX_SUPABASE_URL and HEIMDEX_SUPABASE_KEY")
    if settings.supabase_jwt_secret is None:
        raise HeimdexError(
            "Supabase sign-in needs HEIMDEX_SUPABASE_JWT_SECRET to verify the token it returns"
        )
    with needs("scale", "Supabase sign-in (HEIMDEX_SUPABASE_URL)"):
        from supabase import ClientOptions, create_client
        from supabase_auth.errors import AuthApiError, AuthError

    # A client per sign-in, keeping nothing: no session shared between users, and no
    # background refresh timer calling Supabase later.
    options = ClientOptions(
        auto_refresh_token=False, persist_session=False, postgrest_client_retry=False
    )
    client = create_client(settings.supabase_url, settings.supabase_key.get_secret_value(), options)
    try:
        response = client.auth.sign_in_with_password({"email": email, "password": password})
    except AuthApiError as exc:
        if 400 <= exc.status < 500:  # wrong email or password, unconfirmed email, …
            log.info("Supabase refused the sign-in of %s: %s", email, exc.message)
            return None
        raise HeimdexError(f"Supabase Auth at {settings.supabase_url} failed: {exc}") from exc
    except AuthError as exc:
        raise HeimdexError(
            f"Supabase Auth at {settings.supabase_url} could not be reached: {exc} "
            "(check HEIMDEX_SUPABASE_URL and the network)"
        ) from exc
    if response.session is None:
        return None
    # Trust the token, not the response body: the same checks as every API call.
    return verify_token(
        response.session.access_token, settings.supabase_jwt_secret.get_secret_value()
    )
