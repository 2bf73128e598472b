"""Backup and restore give back the same rows and files; the health endpoint tells the load balancer."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.services import read_directory
from tracker.db import make_engine
from tracker.maintenance import BackupError, create_backup, restore_backup, table_counts
from tracker.tasks import importer
from tests.conftest import HOHHOT, NOW, ROOT


@pytest.fixture
def restore_target(tmp_path, database_url):
    """A second empty database to restore into."""
    if database_url.startswith("postgresql"):
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        name = f"{sa.engine.make_url(database_url).database}_restore"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.engine.make_url(database_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"


def test_backup_then_restore_gives_the_same_rows_and_files(standalone_database, restore_target, tmp_path):
    url, engine = standalone_database
    with Session(engine) as session:
        importer.import_plan(session, HOHHOT.read_bytes(), filename="hohhot.txt", slug="hohhot",
                             directory=read_directory(ROOT / "seed" / "hohhot-units.json"), actor=COMMAND_LINE, now=NOW)
    storage = tmp_path / "storage"
    (storage / "attachments" / "2025" / "10").mkdir(parents=True)
    (storage / "attachments" / "2025" / "10" / "abc").write_bytes("督查报告".encode() * 100)
    (storage / "briefings").mkdir()
    (storage / "briefings" / "2025-3.pdf").write_bytes(b"%PDF-1.7 fake")
    archive = create_backup(url, storage, tmp_path / "backup.tar.gz")
    assert archive["tables"]["tasks"] == 21 and len(archive["files"]) == 2
    restored_storage = tmp_path / "restored-storage"
    restore_backup(tmp_path / "backup.tar.gz", restore_target, restored_storage)
    restored = make_engine(restore_target)
    assert table_counts(restored) == table_counts(engine)
    with restored.connect() as connection:
        titles = connection.execute(sa.text("SELECT title FROM tasks ORDER BY position")).scalars().all()
    restored.dispose()
    with engine.connect() as connection:
        assert titles == connection.execute(sa.text("SELECT title FROM tasks ORDER BY position")).scalars().all()
    assert (restored_storage / "attachments/2025/10/abc").read_bytes() == "督查报告".encode() * 100
    assert (restored_storage / "briefings/2025-3.pdf").read_bytes() == b"%PDF-1.7 fake"


def test_restore_refuses_a_database_that_is_not_empty(standalone_database, tmp_path):
    url, _ = standalone_database
    create_backup(url, tmp_path / "none", tmp_path / "backup.tar.gz")
    with pytest.raises(BackupError, match="不是空的"):
        restore_backup(tmp_path / "backup.tar.gz", url, tmp_path / "storage")


def test_restore_refuses_a_file_that_is_not_a_backup(standalone_database, tmp_path):
    import tarfile
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as archive:
        archive.add(HOHHOT, arcname="plan.txt")
    with pytest.raises(BackupError, match="不是"):
        restore_backup(bogus, f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "storage")


def test_the_health_endpoint_answers_without_login(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_the_health_endpoint_says_503_when_the_database_is_gone(tmp_path):
    from config import TestConfig
    from tracker import create_app
    from tracker.db import Database

    class Broken(TestConfig):
        DATABASE_URL = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        INSTANCE_DIR = tmp_path

    app = create_app(Broken, database=Database(make_engine(Broken.DATABASE_URL, connect_args={"connect_timeout": 1})))
    assert app.test_client().get("/health").status_code == 503
