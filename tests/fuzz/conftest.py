"""Fuzzing fixtures: a world built once per test, and a fresh rolled-back session for every example.

Hypothesis runs many examples inside one test function, so the usual per-test `session` would carry
one example's writes into the next. Here the world (units, plan, areas) is written once into an
outer transaction; each example then works in a savepoint of its own, rolled back when it ends.

`TRACKER_FUZZ_SCALE` multiplies every property's example count (1 in CI); see fuzz/README.md.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, settings
from sqlmodel import Session, func, select

SCALE = float(os.environ.get("TRACKER_FUZZ_SCALE", "1"))
CHINESE_RE = re.compile(r"[\u4e00-\u9fff]")


def examples(count: int) -> settings:
    """`count` examples in CI (times TRACKER_FUZZ_SCALE), no deadline: a whole import is slow on purpose."""
    return settings(max_examples=max(1, int(count * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


class Examples:
    """Opens a session per example on one connection whose outer transaction holds the world."""

    def __init__(self, connection):
        self.connection = connection

    @contextmanager
    def session(self):
        savepoint = self.connection.begin_nested()
        session = Session(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            if savepoint.is_active:
                savepoint.rollback()


@pytest.fixture
def db(engine):
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield Examples(connection)
    finally:
        outer.rollback()
        connection.close()


def row_counts(session, tables) -> dict[str, int]:
    return {table.__tablename__: session.exec(select(func.count()).select_from(table)).one() for table in tables}


def check_problems(problems, *, lines: int | None = None) -> None:
    """Every problem names a line (or none, only when it is the file's one problem) and says what in Chinese."""
    assert problems, "an error without problems"
    for line, message in problems:
        assert isinstance(message, str) and CHINESE_RE.search(message), message
        if line is None:
            assert len(problems) == 1, f"a problem without a line among several: {problems}"
        else:
            assert isinstance(line, int) and line >= 1, problems
            if lines is not None:
                assert line <= lines, f"line {line} beyond the file's {lines} lines: {message}"
