"""Timing helpers: repeated runs after a warm-up, and capturing the SQL a request runs.

Ratios are taken between best runs (as timeit advises): on a shared 2-core machine a slower run measures
what else the machine was doing, and it slows an operation with a large working set (a page, an import)
more than its small floor, so medians would swing the ratio with the neighbours' load."""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    runs: int
    best_ms: float  #: the fastest run: what the code takes when nothing else on the machine gets in the way


def timed(action, *, warmup: int = 3, runs: int = 20, budget_s: float = 20.0) -> Timing:
    """Run `action` `warmup` times, then up to `runs` times (or until the time budget is spent)."""
    for _ in range(warmup):
        action()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs and (time.perf_counter() - started < budget_s or len(samples) < 3):
        begin = time.perf_counter()
        action()
        samples.append((time.perf_counter() - begin) * 1000)
    samples.sort()
    return Timing(median_ms=statistics.median(samples), p95_ms=samples[max(0, int(len(samples) * 0.95) - 1)],
                  runs=len(samples), best_ms=samples[0])


def interleaved(actions: dict, *, warmup: int = 3, runs: int = 40, budget_s: float = 30.0) -> dict[str, Timing]:
    """Time several actions in turn, one run of each per round, so an app and its floor see the same machine:
    a burst of load elsewhere slows both, and their ratio stays put."""
    for _ in range(warmup):
        for action in actions.values():
            action()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    started = time.perf_counter()
    rounds = 0
    while rounds < runs and (time.perf_counter() - started < budget_s or rounds < 3):
        for name, action in actions.items():
            begin = time.perf_counter()
            action()
            samples[name].append((time.perf_counter() - begin) * 1000)
        rounds += 1
    timings = {}
    for name, values in samples.items():
        values.sort()
        timings[name] = Timing(median_ms=statistics.median(values),
                               p95_ms=values[max(0, int(len(values) * 0.95) - 1)], runs=len(values),
                               best_ms=values[0])
    return timings


@contextmanager
def captured_sql(engine):
    """Collect (statement, parameters) of everything executed on `engine` inside the block."""
    statements: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def replay(engine, statements) -> None:
    """Run the captured statements straight through the DBAPI cursor: the page's raw SQL cost."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
