"""Personal API tokens: created and revoked in the browser, kept only as a hash, acting as their user."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from tracker.accounts.models import ApiToken, User
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound

PREFIX = "pt_"
#: writing last_used_dt on every call would turn each read into a write; once a minute is enough
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20


def digest(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to keep them safe at rest."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, *, name: str, actor, now: datetime) -> tuple[ApiToken, str]:
    """Create a token for `user` (only they can); return it and the secret, shown this once.

    :raises Invalid: for a blank or long name, or too many tokens
    """
    if getattr(actor, "id", None) != user.id:
        raise NotFound("没有这个用户")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise Invalid("name", "请填写令牌用途（不超过 60 个字），如“统计局数据对接”")
    active = session.exec(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_dt.is_(None))).all()
    if len(active) >= MAX_TOKENS_PER_USER:
        raise Invalid("name", f"每个账号最多 {MAX_TOKENS_PER_USER} 个有效令牌，请先吊销不用的")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:10], created_dt=now)
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action="token.created", now=now, target=token,
                 summary=f"创建接口令牌“{name}”（{token.prefix}…）")
    session.commit()
    return token, secret


def revoke_token(session: Session, token_id: int, *, actor, now: datetime) -> ApiToken:
    """Revoke one of one's own tokens at once.

    :raises NotFound: if it is not the actor's
    :raises Conflict: if it is already revoked
    """
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != getattr(actor, "id", None):
        raise NotFound("没有这个令牌")
    if token.revoked_dt is not None:
        raise Conflict("这个令牌已经吊销")
    token.revoked_dt = now
    audit.record(session, actor=actor, action="token.revoked", now=now, target=token,
                 summary=f"吊销接口令牌“{token.name}”（{token.prefix}…）")
    session.commit()
    return token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def user_for_token(session: Session, secret: str, *, now: datetime) -> User | None:
    """The active user behind a bearer token, or None (unknown, revoked, or its user disabled)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    row = session.exec(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                       .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_dt.is_(None))
                       .options(selectinload(User.unit))).first()
    if row is None:
        return None
    token, user = row
    session.commit()  # end the read: on SQLite the touch below must open its own write transaction
    if not user.is_active:
        return None
    if token.last_used_dt is None or now - token.last_used_dt > TOUCH_EVERY:
        token.last_used_dt = now
        session.commit()
    return user
