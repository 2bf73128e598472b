"""A SQLite writer killed in the middle of a transaction leaves a sound database with every committed report."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timezone
    import sqlalchemy as sa
    from tracker.db import make_engine
    engine = make_engine(sys.argv[1])
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:                  # committed: these must survive
        for n in range(20):
            connection.execute(sa.text("INSERT INTO units (name, kind, is_active, is_in_directory, created_dt) "
                                       "VALUES (:name, 'department', 1, 1, :now)"), {"name": f"已提交{n}", "now": now})
    print("committed", flush=True)
    connection = engine.connect()
    transaction = connection.begin()                  # never committed: killed while writing
    n = 0
    while True:
        connection.execute(sa.text("INSERT INTO units (name, kind, is_active, is_in_directory, created_dt) "
                                   "VALUES (:name, 'department', 1, 1, :now)"), {"name": f"未提交{n}", "now": now})
        n += 1
        if n == 500:
            print("writing", flush=True)
""")


def test_a_sqlite_writer_killed_mid_transaction_leaves_integrity_and_committed_rows(standalone_database, tmp_path):
    url, engine = standalone_database
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite fault")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writer = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE, text=True,
                              cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert writer.stdout.readline().strip() == "committed"
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    engine.dispose()
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        names = connection.execute(sa.text("SELECT name FROM units")).scalars().all()
    assert sorted(n for n in names if n.startswith("已提交")) == sorted(f"已提交{n}" for n in range(20))
    assert not any(n.startswith("未提交") for n in names)
