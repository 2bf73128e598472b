"""The disk fills up in the middle of an upload: a real short write (RLIMIT_FSIZE, so the kernel refuses the
write part-way with EFBIG, as a full disk does with ENOSPC), through the real request. The unit reads a clear
message; no partial or temporary file stays; the database is exactly as before; the same upload works after."""
from __future__ import annotations

import errno
import io
import resource
from pathlib import Path

import pytest
from sqlmodel import func, select

from tracker.audit.models import AuditEvent
from tracker.reporting.models import Attachment, UnitReport
from tracker.reporting.services import reports
from tests.reporting.conftest import PDF, assignment_id, clock, text_of, world  # noqa: F401  (fixtures)

ROOM = 64 * 1024  # what is left on the "disk"
UPLOAD = PDF + b"0" * (4 * ROOM)


@pytest.fixture
def full_disk(monkeypatch):
    """Every upload is written with only ROOM bytes left, until `free()`; `errors` are what the kernel said."""
    real_write = reports._write_whole

    class Disk:
        errors: list[OSError] = []

        @staticmethod
        def free():
            monkeypatch.setattr(reports, "_write_whole", real_write)

    def write_on_a_full_disk(path, data):
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (ROOM, hard))
        try:
            real_write(path, data)
        except reports.Invalid as exc:
            Disk.errors.append(exc.__cause__)
            raise
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    monkeypatch.setattr(reports, "_write_whole", write_on_a_full_disk)
    return Disk


def state(session) -> dict:
    """Everything an upload could have touched."""
    session.expire_all()
    return {"attachments": session.exec(select(Attachment)).all(),
            "reports": [(r.id, r.status, r.progress_text, r.updated_dt) for r in session.exec(select(UnitReport))],
            "audit": session.exec(select(func.count()).select_from(AuditEvent)).one()}


def files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(client, assignment: int, name: str = "督查报告.pdf"):
    return client.post(f"/assignments/{assignment}/attachments", data={"file": (io.BytesIO(UPLOAD), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("has_draft", [False, True], ids=["first_upload", "upload_to_a_saved_draft"])
def test_a_disk_that_fills_up_during_an_upload_gives_a_clear_message_no_partial_file_and_an_untouched_database(
        client, session, app, auth, world, clock, full_disk, has_draft):
    auth.login(world.first_user)
    mine = assignment_id(session, world.round, world.task, world.first)
    if has_draft:
        assert client.post(f"/assignments/{mine}", data={"progress_text": "草稿", "save_draft": "1"}).status_code == 302
    before = state(session)

    response = upload(client, mine)
    assert response.status_code == 422
    assert "服务器存储空间不足或不可写，文件没有保存" in text_of(response)
    assert "Traceback" not in response.get_data(as_text=True)
    assert [e.errno for e in full_disk.errors] == [errno.EFBIG]  # the kernel refused a write part-way
    assert files(app) == []  # neither the partial temporary file nor a final one
    assert state(session) == before  # no attachment row, no report created or touched, no audit line
    assert client.get(f"/assignments/{mine}").status_code == 200

    full_disk.free()  # room on the disk again: the same upload goes through whole
    assert upload(client, mine).status_code == 302
    attachment = session.exec(select(Attachment)).one()
    stored = files(app)
    assert len(stored) == 1 and stored[0].read_bytes() == UPLOAD and attachment.size_bytes == len(UPLOAD)
