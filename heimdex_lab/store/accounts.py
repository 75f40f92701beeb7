"""Local accounts and API tokens in the catalog (``Catalog.accounts``).

Accounts are not owned by anyone: they are the owners. A password is stored as its bcrypt hash
(``ui/accounts.py``), a token as its SHA-256 (``api/auth.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from heimdex_lab.store.schema import TokenRow, UserRow

if TYPE_CHECKING:
    from heimdex_lab.store.catalog import Catalog


class Accounts:
    """Users with their password hashes, and bearer tokens by hash."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def set_password(self, name: str, password_hash: str) -> None:
        """Create the local account ``name`` or change its password hash."""
        with self.catalog.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                s.add(UserRow(id=name, name=name, password_hash=password_hash))
            else:
                row.password_hash = password_hash

    def has_users(self) -> bool:
        with self.catalog.session() as s:
            return s.scalar(select(func.count()).select_from(UserRow)) != 0

    def password_hash(self, name: str) -> str | None:
        with self.catalog.session() as s:
            return s.scalar(select(UserRow.password_hash).where(UserRow.name == name))

    def add_token(self, user: str, token_sha256: str) -> None:
        with self.catalog.session() as s:
            s.add(TokenRow(token_sha256=token_sha256, user=user))

    def token_user(self, token_sha256: str) -> str | None:
        with self.catalog.session() as s:
            return s.scalar(select(TokenRow.user).where(TokenRow.token_sha256 == token_sha256))

    def revoke_tokens(self, user: str) -> int:
        with self.catalog.session() as s:
            result = s.execute(delete(TokenRow).where(TokenRow.user == user))
            return int(result.rowcount)  # type: ignore[attr-defined]
