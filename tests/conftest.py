"""Shared fixtures: one schema per run (from Alembic), one rolled-back transaction per test."""
from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from config import TestConfig
from tracker import create_app, migrate
from tracker.db import Database, make_engine

ROOT = Path(__file__).resolve().parent.parent
PLAN_DOCUMENTS = ROOT.parent / "shared" / "plan-documents"
HOHHOT = ROOT / "seed" / "hohhot-energy-saving-2021-2025.txt"
GENRE = ROOT / "tests" / "documents" / "genre"
NOW = datetime(2025, 10, 20, 1, 0, tzinfo=timezone.utc)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    with engine.begin() as connection:
        migrate.upgrade(database_url, connection=connection)
    yield engine
    engine.dispose()


@pytest.fixture
def standalone_database(tmp_path, database_url):
    """(url, engine) of a migrated, empty database of its own, for work other processes must see.

    SQLite: a file in tmp_path. PostgreSQL: a sibling database `<test db>_standalone`, dropped after.
    """
    admin = None
    if database_url.startswith("postgresql"):
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        name = f"{sa.engine.make_url(database_url).database}_standalone"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.engine.make_url(database_url).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'standalone.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def session(engine):
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def app(engine, session, tmp_path):
    class Config(TestConfig):
        INSTANCE_DIR = tmp_path
        STORAGE_DIR = tmp_path / "storage"
        MAILBOX_DIR = tmp_path / "mailbox"
        DATABASE_URL = str(engine.url)

    app = create_app(Config, database=Database(engine, lambda: session, shared=True))
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(engine):
    """Use as `with count_queries() as counted: …; counted.count`."""

    @contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture(autouse=True)
def no_stray_smtp(request, monkeypatch):
    """Fail any test that opens an SMTP connection without the `smtp_server` fixture."""
    if "smtp_server" in request.fixturenames:
        return
    real_create_connection = socket.create_connection

    def guarded(address, *args, **kwargs):
        if address[1] in (25, 465, 587, 1025, 2525):
            pytest.fail(f"test opened an SMTP connection to {address} without the smtp_server fixture")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


pytest_plugins = ["tests.factories", "tests.smtp"]
