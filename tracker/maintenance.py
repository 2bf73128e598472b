"""`tracker backup` and `tracker restore`: the database and the stored files, as one archive."""
from __future__ import annotations

import hashlib
import io
import json

import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from tracker.db import make_engine

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in Chinese."""


def libpq_url(url: str) -> str:
    """postgresql+psycopg://… → postgresql://… for pg_dump and pg_restore."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def table_counts(engine) -> dict[str, int]:
    inspector = sa.inspect(engine)
    with engine.connect() as connection:
        return {name: connection.execute(sa.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
                for name in sorted(inspector.get_table_names())}


def _files(storage: Path) -> dict[str, str]:
    if not storage.is_dir():
        return {}
    return {str(path.relative_to(storage)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(storage.rglob("*")) if path.is_file() and not path.name.endswith(".part")}


def create_backup(url: str, storage: Path, output: Path) -> dict:
    """Write database and files to `output` (.tar.gz); return the manifest.

    SQLite is copied with the online backup API (consistent while the app runs); PostgreSQL with
    pg_dump's custom format.
    """
    engine = make_engine(url)
    dialect = engine.dialect.name
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        if dialect == "sqlite":
            dump = work_path / "database.sqlite3"
            source = sqlite3.connect(make_url(url).database)
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)
            source.close()
            target.close()
        elif dialect == "postgresql":
            dump = work_path / "database.dump"
            completed = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump),
                                        libpq_url(url)], capture_output=True, text=True)
            if completed.returncode:
                raise BackupError(f"pg_dump 失败：{completed.stderr.strip()}")
        else:
            raise BackupError(f"不支持的数据库：{dialect}")
        with engine.connect() as connection:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        manifest = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(), "database": dialect,
                    "alembic_revision": revision, "tables": table_counts(engine), "files": _files(storage)}
        engine.dispose()
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name)
            for name in manifest["files"]:
                archive.add(storage / name, arcname=f"storage/{name}")
        partial.replace(output)
    return manifest


def restore_backup(archive_path: Path, url: str, storage: Path, *, force: bool = False) -> dict:
    """Restore an archive into an empty database (or any, with `force`) and the storage folder.

    :raises BackupError: if the archive is not a tracker backup, the database is of the other kind,
        the target is not empty, or the restored rows and files differ from the manifest
    """
    engine = make_engine(url)
    dialect = engine.dialect.name
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive_path, "r:gz") as archive:
        work_path = Path(work)
        archive.extractall(work_path, filter="data")
        manifest_path = work_path / "manifest.json"
        if not manifest_path.exists():
            raise BackupError("这不是规划任务督办系统的备份文件（缺少 manifest.json）")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT or manifest.get("database") != dialect:
            raise BackupError(f"备份来自 {manifest.get('database')} 数据库，不能恢复到 {dialect}")
        existing = sa.inspect(engine).get_table_names()
        if existing and not force:
            raise BackupError("目标数据库不是空的；确认要覆盖时请加 --force")
        engine.dispose()
        if dialect == "sqlite":
            target = Path(make_url(url).database)
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(work_path / "database.sqlite3", target)
        else:
            if existing:
                with make_engine(url).begin() as connection:
                    connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                    connection.exec_driver_sql("CREATE SCHEMA public")
            completed = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq_url(url),
                                        str(work_path / "database.dump")], capture_output=True, text=True)
            if completed.returncode:
                raise BackupError(f"pg_restore 失败：{completed.stderr.strip()}")
        storage.mkdir(parents=True, exist_ok=True)
        for name in manifest["files"]:
            destination = storage / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work_path / "storage" / name, destination)
    restored = make_engine(url)
    counts = table_counts(restored)
    restored.dispose()
    if counts != manifest["tables"]:
        raise BackupError("恢复后的数据行数与备份不一致")
    if {name: digest for name, digest in _files(storage).items() if name in manifest["files"]} != manifest["files"]:
        raise BackupError("恢复后的文件与备份不一致")
    return manifest


@click.command("backup", help="备份数据库和存储的文件（附件、通报 PDF）到一个 .tar.gz 文件。")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="备份文件路径，默认 instance/backups/tracker-<时间>.tar.gz")
@with_appcontext
def backup_command(output: Path | None) -> None:
    config = current_app.config
    output = output or Path(config["INSTANCE_DIR"]) / "backups" / f"tracker-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"
    try:
        manifest = create_backup(config["DATABASE_URL"], Path(config["STORAGE_DIR"]), output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已备份 {sum(manifest['tables'].values())} 行数据、{len(manifest['files'])} 个文件")
    click.echo(str(output))


@click.command("restore", help="从备份文件恢复数据库和存储的文件。")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="目标数据库不为空时也覆盖。")
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    config = current_app.config
    try:
        manifest = restore_backup(archive, config["DATABASE_URL"], Path(config["STORAGE_DIR"]), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已恢复 {sum(manifest['tables'].values())} 行数据、{len(manifest['files'])} 个文件"
               f"（备份于 {manifest['created']}，结构版本 {manifest['alembic_revision']}）")



