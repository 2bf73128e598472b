"""Engine, sessions, column types and the naming convention shared by every domain."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterator

import sqlalchemy as sa
from flask import Flask, g, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator):
    """An aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(sa.DateTime(timezone=dialect.name != "sqlite"))


class DecimalText(sa.TypeDecorator):
    """A Decimal kept exactly as written ("13.50" stays "13.50"), on every database."""

    impl = sa.String(48)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            try:
                value = Decimal(str(value))
            except InvalidOperation as exc:
                raise ValueError(f"not a decimal: {value!r}") from exc
        return format(value, "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = sa.create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, issue BEGIN, so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "BEGIN")
        conn.exec_driver_sql(mode)


class Database:
    """The app's engine and how a request gets its session."""

    def __init__(self, engine: Engine, session_factory=None, *, shared: bool = False):
        self.engine = engine
        self._factory = session_factory or (lambda: Session(engine, expire_on_commit=False))
        #: a shared session (the tests' savepoint session) is expired, not closed, after a request
        self.shared = shared

    def open(self) -> Session:
        session = self._factory()
        if self.shared and session.in_transaction():
            # what a test arranged before the request is committed data as far as the request knows
            session.commit()
        return session

    def release(self, session: Session) -> None:
        if self.shared:
            # In the tests' savepoint mode this discards only what the request left uncommitted.
            session.rollback()
        else:
            session.close()


def init_app(app: Flask, database: Database | None = None) -> None:
    if database is None:
        database = Database(make_engine(app.config["DATABASE_URL"]))
    app.extensions["tracker_db"] = database

    @app.teardown_appcontext
    def _release_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            database.release(session)


def get_database() -> Database:
    return current_app.extensions["tracker_db"]


def get_session() -> Session:
    """Return the session of the current request, opening it on first use.

    On SQLite a request that may write (anything but GET) and a command take the write lock at
    BEGIN: a transaction that reads first and writes later fails at once if another process
    committed in between, and no busy timeout helps with that.
    """
    if "db_session" not in g:
        database = get_database()
        session = database.open()
        if not database.shared and not _is_read_only_request():
            write_lock_first(session)
        g.db_session = session
    return g.db_session


def _is_read_only_request() -> bool:
    from flask import has_request_context, request
    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def write_lock_first(session: Session) -> None:
    """Begin the session's next transaction with BEGIN IMMEDIATE on SQLite (nothing elsewhere)."""
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open one session for a job or a command; the caller commits."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def fetch_page(session: Session, query: sa.Select, *order_by, offset: int = 0, limit: int) -> tuple[list[tuple], int]:
    """One page of `query`'s rows (as tuples) and how many rows match.

    Two statements, not one with COUNT(*) OVER (): the window function makes the database read and sort every
    matching row before the LIMIT, which at a nation's 100,000 tasks costs a hundred times the page.
    """
    # SQLModel's exec() would hand back only the first column of a select(Model): rows are needed here
    rows = sa.orm.Session.execute(session, query.order_by(*order_by).offset(offset).limit(limit)).all()
    total = sa.orm.Session.execute(session, sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())).scalar_one()
    return [tuple(row) for row in rows], total
