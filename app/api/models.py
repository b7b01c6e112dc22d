"""Bearer tokens for machine clients; only a SHA-256 hash of each token is stored."""
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy import orm

from app.extensions import db
from app.models_base import UTCDateTime, utcnow

TOKEN_PREFIX = "cnscd_"


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast unsalted hash is enough; a KDF would slow every request.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # The token acts with this user's role and scope.
    user_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("users.id"), index=True)
    label: orm.Mapped[str] = orm.mapped_column(sa.String(100), default="")
    token_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    # First characters, so staff can tell tokens apart without the secret.
    hint: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="")
    created_by_id: orm.Mapped[int | None] = orm.mapped_column(sa.ForeignKey("users.id"))
    created_at = orm.mapped_column(UTCDateTime, default=utcnow)
    last_used_at = orm.mapped_column(UTCDateTime)
    revoked_at = orm.mapped_column(UTCDateTime)

    user = orm.relationship("User", foreign_keys=[user_id])
    created_by = orm.relationship("User", foreign_keys=[created_by_id])


def issue_token(user, label: str = "", created_by=None) -> tuple[ApiToken, str]:
    """A new token for the user; the plain secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, label=label, token_hash=hash_token(secret),
                     hint=secret[:len(TOKEN_PREFIX) + 4],
                     created_by_id=created_by.id if created_by is not None else None)
    db.session.add(token)
    return token, secret


def find_active_token(secret: str) -> ApiToken | None:
    if not secret:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token
