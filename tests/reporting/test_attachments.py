"""Evidence uploads: size, type by content, names, downloads, and no orphan file or row when something fails."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tracker.reporting.models import Attachment, UnitReport
from tracker.reporting.services import reports
from tests.reporting.conftest import EXE, PDF, PNG, assignment_id

MB = 1024 * 1024


@pytest.fixture
def mine(session, world, auth, clock):
    """The first responsible unit, logged in, on its own assignment."""
    auth.login(world.first_user)
    return assignment_id(session, world.round, world.task, world.first)


def upload(client, assignment: int, data: bytes, name: str):
    return client.post(f"/assignments/{assignment}/attachments", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    root = Path(app.config["STORAGE_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def only_attachment(session) -> Attachment:
    return session.exec(select(Attachment)).one()


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_a_chinese_name_is_kept_for_display_and_sent_back_in_content_disposition(client, session, app, mine):
    name = "督查报告（第一季度）.pdf"
    assert upload(client, mine, PDF, name).status_code == 302
    attachment = only_attachment(session)
    assert attachment.original_name == name and attachment.content_type == "application/pdf"
    assert name in client.get(f"/assignments/{mine}").get_data(as_text=True)
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert f'filename="attachment-{attachment.id}.pdf"' in disposition and disposition.isascii()
    assert response.mimetype == "application/pdf" and response.headers["X-Content-Type-Options"] == "nosniff"


def test_downloading_returns_the_same_bytes_for_every_allowed_type(client, session, mine):
    for data, name, mimetype in ((PDF, "a.pdf", "application/pdf"), (PNG, "图.png", "image/png"),
                                 (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "照片.JPEG", "image/jpeg"),
                                 (docx(), "方案.docx", reports.ATTACHMENT_TYPES["docx"])):
        assert upload(client, mine, data, name).status_code == 302, name
        attachment = session.exec(select(Attachment).order_by(Attachment.id.desc())).first()
        response = client.get(f"/attachments/{attachment.id}")
        assert (response.data, response.mimetype) == (data, mimetype), name


def test_a_file_over_the_per_file_limit_gets_a_chinese_message_and_nothing_is_stored(client, session, app, mine):
    app.config["ATTACHMENT_MAX_BYTES"] = MB
    response = upload(client, mine, PDF + b"0" * MB, "大文件.pdf")
    assert response.status_code == 422 and "文件超过 1 MB 的上限" in response.get_data(as_text=True)
    assert session.exec(select(Attachment)).first() is None and stored_files(app) == []
    assert session.exec(select(UnitReport)).first() is None


def test_the_default_per_file_limit_leaves_room_under_the_request_limit(client, app, mine):
    page = client.get(f"/assignments/{mine}").get_data(as_text=True)
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * MB and "单个文件不超过 19 MB" in page


def test_a_file_over_the_request_limit_gets_the_chinese_413_page(client, session, app, mine):
    app.config["MAX_CONTENT_LENGTH"] = MB
    response = upload(client, mine, PDF + b"0" * (MB + 10), "太大.pdf")
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)
    assert session.exec(select(Attachment)).first() is None and stored_files(app) == []


@pytest.mark.parametrize("data, name, message", [
    (EXE, "报告.pdf", "文件内容须与类型相符"),
    (b"#!/bin/sh\nrm -rf /\n", "脚本.pdf", "文件内容须与类型相符"),
    (b"<html><script>alert(1)</script></html>", "页面.png", "文件内容须与类型相符"),
    (PDF, "报告.png", "扩展名与内容不符"),
    (PDF, "报告.exe", "只接受 PDF"),
    (PDF, "报告", "只接受 PDF"),
    (b"", "空.pdf", "文件是空的"),
])
def test_a_file_whose_content_is_not_an_allowed_type_is_refused_in_chinese(
        client, session, app, mine, data, name, message):
    response = upload(client, mine, data, name)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert session.exec(select(Attachment)).first() is None and stored_files(app) == []


def test_a_name_with_directories_is_stored_under_a_generated_name_and_shown_without_them(client, session, app, mine):
    assert upload(client, mine, PDF, "../../etc/passwd.pdf").status_code == 302
    attachment = only_attachment(session)
    assert attachment.original_name == "passwd.pdf"
    assert re.fullmatch(r"\d{4}/\d{2}/[0-9a-f]{32}", attachment.stored_name)
    storage = Path(app.config["STORAGE_DIR"]).resolve()
    assert stored_files(app) == [storage / "attachments" / attachment.stored_name]
    assert reports.clean_filename("C:\\Users\\张三\\..\\系统.pdf", "pdf") == "系统.pdf"


def test_a_300_byte_name_is_shortened_and_keeps_its_extension(client, session, mine):
    name = "甲" * 30 + "a" * 206 + ".pdf"
    assert len(name.encode()) == 300
    assert upload(client, mine, PDF, name).status_code == 302
    kept = only_attachment(session).original_name
    assert kept.endswith(".pdf") and len(kept) <= 104 and kept.startswith("甲" * 30)


def test_control_and_direction_characters_are_removed_from_the_display_name(client, session, mine):
    assert upload(client, mine, PDF, "报告\u202egpj.pdf").status_code == 302
    assert only_attachment(session).original_name == "报告gpj.pdf"
    assert reports.clean_filename("报告\r\n伪造的一行\x00.pdf", "pdf") == "报告伪造的一行.pdf"


def test_removing_an_attachment_deletes_its_row_and_its_file(client, session, app, mine):
    upload(client, mine, PDF, "a.pdf")
    attachment = only_attachment(session)
    response = client.post(f"/assignments/{mine}/attachments/{attachment.id}/remove")
    assert response.status_code == 302
    assert session.exec(select(Attachment)).first() is None and stored_files(app) == []


def test_no_file_is_kept_when_the_database_write_fails(client, session, app, mine, monkeypatch):
    client.post(f"/assignments/{mine}", data={"progress_text": "草稿", "save_draft": "1"})
    real_commit = session.commit

    def failing_commit():
        if any(isinstance(row, Attachment) for row in session.new):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))
        return real_commit()

    monkeypatch.setattr(session, "commit", failing_commit)
    response = upload(client, mine, PDF, "报告.pdf")
    assert response.status_code == 503 and "数据库暂时不可用" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert session.exec(select(Attachment)).first() is None and stored_files(app) == []


@pytest.mark.parametrize("broken", ["open", "replace"])
def test_no_file_is_left_behind_when_the_disk_write_fails_and_the_storage_message_is_shown(
        client, session, app, mine, monkeypatch, broken):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if broken == "open":
        monkeypatch.setattr(reports, "open", disk_full, raising=False)
    else:
        monkeypatch.setattr(reports.os, "replace", disk_full)
    response = upload(client, mine, PDF, "报告.pdf")
    assert response.status_code == 422
    assert "服务器存储空间不足或不可写，文件没有保存" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert stored_files(app) == []
    assert session.exec(select(Attachment)).first() is None and session.exec(select(UnitReport)).first() is None


def test_a_download_whose_file_is_gone_answers_404(client, session, app, mine):
    upload(client, mine, PDF, "a.pdf")
    attachment = only_attachment(session)
    (Path(app.config["STORAGE_DIR"]) / "attachments" / attachment.stored_name).unlink()
    assert client.get(f"/attachments/{attachment.id}").status_code == 404
