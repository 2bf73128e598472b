"""Users, passwords and logins: Argon2id, throttling in the database, sessions that really end."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import Session, func, select

from tracker.accounts.models import LoginAttempt, User, UserRole
from tracker.accounts.permissions import can_manage_users, require
from tracker.audit import services as audit
from tracker.errors import Conflict, Invalid, NotFound, TrackerError

#: OWASP's Argon2id minimum: 19 MiB, 2 passes, 1 lane (~16 ms a check on this project's machines)
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
DUMMY_HASH = HASHER.hash("a password nobody has, checked when the username is unknown")
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WRONG_CREDENTIALS = "用户名或密码不正确"


class LoginFailed(TrackerError):
    """Unknown user, wrong password or disabled account: one message and one cost for all."""


class LoginThrottled(TrackerError):
    """Too many failures for this account or address in the last minutes."""


@dataclass(frozen=True)
class CommandLineActor:
    """Whoever runs `tracker …` on the server acts as the office (they hold the database anyway)."""

    id: None = None
    username: str = "命令行"
    display_name: str = "命令行"
    role: UserRole = UserRole.office
    unit_id: int | None = None
    is_active: bool = True


COMMAND_LINE = CommandLineActor()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def check_password_rules(password: str, *, username: str = "", field: str = "password") -> None:
    """Length 8–128, not a common password, not the username; no composition rules (ASVS 2).

    :raises Invalid: naming `field`, in Chinese
    """
    if len(password) < 8:
        raise Invalid(field, "密码至少需要 8 个字符")
    if len(password) > 128:
        raise Invalid(field, "密码不能超过 128 个字符")
    if password.lower() in _common_passwords() or (username and password.lower() == username.lower()):
        raise Invalid(field, "这个密码太常见，容易被猜到，请换一个")


def like_escape(text: str) -> str:
    """Make user text literal inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:64]


# --- logging in and out --------------------------------------------------------------------------

def authenticate(session: Session, username: str, password: str, *, ip: str, now: datetime) -> User:
    """Check a login; record the attempt (and audit it) either way.

    :raises LoginThrottled: after too many recent failures for the account or the address
    :raises LoginFailed: for an unknown user, a wrong password or a disabled account (same message)
    """
    name = normalise_username(username)
    since = now - FAILURE_WINDOW
    account_failures = session.exec(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == name, LoginAttempt.occurred_dt >= since, LoginAttempt.succeeded.is_(False))).one()
    address_failures = session.exec(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.ip == ip, LoginAttempt.occurred_dt >= since, LoginAttempt.succeeded.is_(False))).one()
    if account_failures >= MAX_FAILURES_PER_ACCOUNT or address_failures >= MAX_FAILURES_PER_IP:
        # not counted as a failure: attempts during a lock must not keep the lock going for ever
        audit.record(session, actor=None, action="login.throttled", now=now,
                     summary=f"账号“{name}”登录尝试过多，已暂时限制")
        session.commit()
        raise LoginThrottled("登录失败次数过多，请 15 分钟后再试")
    user = session.exec(select(User).where(User.username == name)).first()
    verified = _verify(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not verified or not user.is_active:
        session.add(LoginAttempt(occurred_dt=now, username=name, ip=ip, succeeded=False))
        audit.record(session, actor=None, action="login.failed", now=now,
                     summary=f"账号“{name}”登录失败", target=user)
        session.commit()
        raise LoginFailed(WRONG_CREDENTIALS)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    user.last_login_dt = now
    session.add(LoginAttempt(occurred_dt=now, username=name, ip=ip, succeeded=True))
    audit.record(session, actor=user, action="login.succeeded", now=now, summary=f"{user.display_name}登录", target=user)
    session.commit()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def load_session_user(session: Session, session_id: str) -> User | None:
    """Return the user of a session cookie's id ("7:3"), or None if that session was ended."""
    user_id, _, epoch = (session_id or "").partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = session.exec(select(User).where(User.id == int(user_id)).options(joinedload(User.unit))).first()
    if user is None or not user.is_active or user.session_epoch != int(epoch):
        return None
    return user


def end_sessions(session: Session, user: User, *, now: datetime) -> None:
    """Log out everywhere: every cookie issued before now stops working."""
    user.session_epoch += 1
    audit.record(session, actor=user, action="logout", now=now, summary=f"{user.display_name}退出登录", target=user)
    session.commit()


def change_password(session: Session, user: User, *, current: str, new: str, now: datetime) -> User:
    """Change one's own password; every other session of the user ends.

    :raises Invalid: if the current password is wrong or the new one breaks the rules
    """
    if not _verify(user.password_hash, current):
        raise Invalid("current_password", "当前密码不正确")
    check_password_rules(new, username=user.username, field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_dt = now
    user.session_epoch += 1
    audit.record(session, actor=user, action="password.changed", now=now, summary=f"{user.display_name}修改了密码",
                 target=user)
    session.commit()
    return user


# --- managing users --------------------------------------------------------------------------------

@dataclass
class UserFields:
    """What the office may set on a user: an explicit list, so nothing else can be assigned."""

    display_name: str
    unit_id: int
    role: UserRole
    email: str
    phone: str | None = None


#: accounts uses no domain, so it checks the unit by its table, not its model
UNITS = sa.table("units", sa.column("id"))


def _validate(session: Session, fields: UserFields) -> None:
    if not fields.display_name.strip():
        raise Invalid("display_name", "请填写姓名")
    if not EMAIL_RE.match(fields.email or ""):
        raise Invalid("email", "请填写有效的电子邮箱地址")
    if session.exec(sa.select(UNITS.c.id).where(UNITS.c.id == fields.unit_id)).first() is None:
        raise Invalid("unit_id", "请选择所属单位")


def create_user(session: Session, *, username: str, password: str, fields: UserFields, actor, now: datetime) -> User:
    """Create a user.

    :raises PermissionDenied: unless `actor` manages users
    :raises Invalid: for a malformed or taken username, a weak password, bad fields
    """
    require(can_manage_users(actor))
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise Invalid("username", "用户名只能用小写字母、数字和 . _ -，2 到 64 个字符")
    if session.exec(select(User.id).where(User.username == name)).first() is not None:
        raise Invalid("username", "这个用户名已被使用")
    _validate(session, fields)
    check_password_rules(password, username=name)
    user = User(username=name, password_hash=hash_password(password), created_dt=now, password_changed_dt=now,
                display_name=fields.display_name.strip(), unit_id=fields.unit_id, role=fields.role,
                email=fields.email.strip(), phone=(fields.phone or "").strip() or None)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.created", now=now, target=user,
                 summary=f"新建用户 {name}（{fields.role.label}）")
    session.commit()
    return user


def update_user(session: Session, user: User, *, fields: UserFields, actor, now: datetime) -> User:
    """Change a user's name, unit, role and contact details; a new role or unit ends their sessions."""
    require(can_manage_users(actor))
    _validate(session, fields)
    if user.id == getattr(actor, "id", None) and fields.role is not user.role:
        raise Invalid("role", "不能修改自己的角色：请由另一位督查科账号修改，以免系统没有管理员")
    if (user.role, user.unit_id) != (fields.role, fields.unit_id):
        user.session_epoch += 1
    user.display_name, user.unit_id, user.role = fields.display_name.strip(), fields.unit_id, fields.role
    user.email, user.phone = fields.email.strip(), (fields.phone or "").strip() or None
    audit.record(session, actor=actor, action="user.updated", now=now, target=user, summary=f"修改用户 {user.username}")
    session.commit()
    return user


def set_user_active(session: Session, user: User, *, is_active: bool, actor, now: datetime) -> User:
    """Disable (ending every session at once) or re-enable a user.

    :raises Conflict: if the office would disable itself
    """
    require(can_manage_users(actor))
    if not is_active and user.id == getattr(actor, "id", None):
        raise Conflict("不能停用自己的账号")
    user.is_active = is_active
    if not is_active:
        user.session_epoch += 1
    audit.record(session, actor=actor, action="user.enabled" if is_active else "user.disabled", now=now,
                 target=user, summary=f"{'启用' if is_active else '停用'}用户 {user.username}")
    session.commit()
    return user


def reset_password(session: Session, user: User, *, password: str, actor, now: datetime) -> User:
    """Set a new password for a user (the office), ending their sessions."""
    require(can_manage_users(actor))
    check_password_rules(password, username=user.username)
    user.password_hash = hash_password(password)
    user.password_changed_dt = now
    user.session_epoch += 1
    audit.record(session, actor=actor, action="password.reset", now=now, target=user,
                 summary=f"重置用户 {user.username} 的密码")
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.exec(select(User).where(User.id == user_id).options(selectinload(User.unit))).first()
    if user is None:
        raise NotFound("没有这个用户")
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == normalise_username(username))).first()


def list_users(session: Session, *, search: str = "", page: int = 1, size: int = 50) -> tuple[list[User], int]:
    query = select(User)
    if search:
        pattern = f"%{like_escape(search)}%"
        query = query.where(User.username.like(pattern, escape="\\") | User.display_name.like(pattern, escape="\\"))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    users = session.exec(query.options(selectinload(User.unit)).order_by(User.role, User.username)
                         .offset((page - 1) * size).limit(size)).all()
    return list(users), total
