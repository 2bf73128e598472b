"""Hostile files on every upload endpoint: the plan import, evidence attachments, the contacts import, and the
energy data and measures imports.

Each gets a file over the request limit, an executable and an HTML page renamed to an allowed extension, an empty
file, a workbook (or .docx) that declares gigantic dimensions or sizes, and well-formed content under names with
`../`, an absolute path, Windows separators, 300 bytes, an RTL override or a NUL. Nothing answers 500, a refusal
says why in Chinese and leaves the database and storage as they were, an accepted file is stored inside the
storage folder under a generated name, and no file ever appears outside it.
"""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import HOHHOT
from tests.security.conftest import OWN_UNIT, PDF, changes, configured, send, undone
from tests.security.valid_forms import contacts_csv, energy_csv, measures_csv

EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
       + b"This program cannot be run in DOS mode")
HTML = "<!doctype html><html><body><script>alert('督查')</script>通报</body></html>".encode()
LIMIT = 64 * 1024


def sheet_xml(dimension: str, last_row: int, last_cell: str, header: tuple[str, ...]) -> str:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{text}</t></is></c>' for i, text in enumerate(header))
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            f'2006/main"><dimension ref="{dimension}"/><sheetData><row r="1">{cells}</row><row r="{last_row}">'
            f'<c r="{last_cell}" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')


def huge_xlsx(header: tuple[str, ...] = ("单位", "姓名")) -> bytes:
    """A kilobyte workbook whose sheet declares 1,048,576 rows × 16,384 columns, with a cell in the last one."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook'
        '.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet_xml("A1:XFD1048576", 1048576, "XFD1048576", header),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb(inner: str) -> bytes:
    """A zip whose `inner` entry inflates to 200 MB of zeros (about 200 kB on the wire)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(inner, "w", force_zip64=True) as entry:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):
                entry.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bombs():
    return {"xlsx": zip_bomb("xl/worksheets/sheet1.xml"), "docx": zip_bomb("word/document.xml")}


#: endpoint -> (who uploads, path, form field, extension, good content, what success answers)
ENDPOINTS = {
    "plan import": ("office", lambda w: "/import", "document", "txt", lambda: HOHHOT.read_bytes(), 200),
    "evidence attachment": ("lead", lambda w: f"/assignments/{w.lead_assignment}/attachments", "file", "pdf",
                            lambda: PDF, 302),
    "contacts import": ("office", lambda w: "/units/contacts/import", "document", "csv",
                        lambda: contacts_csv((OWN_UNIT, "赵联络", "zhao@xc.example.gov.cn")), 302),
    "energy data import": ("coordinator", lambda w: "/evaluations/energy/hohhot/import", "file", "csv",
                           lambda: energy_csv(), 302),
    "measures import": ("coordinator", lambda w: "/evaluations/measures/hohhot/import", "file", "csv",
                        lambda: measures_csv(), 302),
}
REFUSED = (400, 413, 422)

#: kind -> (file name for an extension, content for (extension, good content, bombs), refused?)
KINDS = {
    "over the request limit": (lambda ext: f"大文件.{ext}", lambda ext, good, b: good + b" " * (LIMIT + 1), True),
    "an executable renamed": (lambda ext: f"报告.{ext}", lambda ext, good, b: EXE, True),
    "an HTML page renamed": (lambda ext: f"报告.{ext}", lambda ext, good, b: HTML, True),
    "an empty file": (lambda ext: f"空白.{ext}", lambda ext, good, b: b"", True),
    "a workbook declaring a million rows": (lambda ext: "巨大.xlsx", lambda ext, good, b: huge_xlsx(), None),
    "a zip bomb": (lambda ext: "炸弹.docx" if ext == "txt" else "炸弹.xlsx",
                   lambda ext, good, b: b["docx"] if ext == "txt" else b["xlsx"], None),
    "a ../ path in the name": (lambda ext: f"../../../../../../tmp/sec-upload-evil.{ext}", lambda ext, good, b: good,
                               False),
    "an absolute path in the name": (lambda ext: f"/tmp/sec-upload-evil.{ext}", lambda ext, good, b: good, False),
    "Windows separators in the name": (lambda ext: f"..\\..\\..\\sec-upload-evil.{ext}", lambda ext, good, b: good,
                                       False),
    "a 300-byte name": (lambda ext: "督" * 100 + f".{ext}", lambda ext, good, b: good, False),
    "an RTL override in the name": (lambda ext: f"报告\u202efdp.exe.{ext}", lambda ext, good, b: good, False),
    "a NUL in the name": (lambda ext: f"报告\x00.exe.{ext}", lambda ext, good, b: good, True),
}


def files_outside_storage(world) -> set[str]:
    return {str(p) for p in world.tmp.rglob("*") if p.is_file() and world.storage not in p.parents}


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system was never written either
        return False


def naive_destinations(world, name: str) -> list[Path]:
    """Where a careless join of the upload's name would have written it."""
    bases = [world.storage, world.storage / "attachments", world.storage / "attachments" / "2025" / "10",
             world.storage / "pending-imports", Path.cwd()]
    return [Path(base, name.replace("\\", "/")).resolve() for base in bases] + [Path("/tmp/sec-upload-evil.pdf")]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_hostile_upload_is_refused_or_stored_safely_and_never_answers_500(world, bombs, endpoint, kind):
    role, path, field, ext, good, success = ENDPOINTS[endpoint]
    name_of, content_of, refused = KINDS[kind]
    name, content = name_of(ext), content_of(ext, good(), bombs)
    outside = files_outside_storage(world)
    limit = LIMIT if kind == "over the request limit" else world.app.config["MAX_CONTENT_LENGTH"]
    with configured(world, MAX_CONTENT_LENGTH=limit), undone(world.session, world.storage):
        started = time.monotonic()
        response = send(world, role, "POST", path(world), data={field: (io.BytesIO(content), name)}, keep=True,
                        content_type="multipart/form-data")
        elapsed = time.monotonic() - started
        changed = changes(world)
        stored = sorted(p for p in world.storage.rglob("*") if p.is_file())
    page = response.get_data(as_text=True)
    assert response.status_code < 500, f"{endpoint}, {kind}: {response.status_code}"
    assert elapsed < 15, f"{endpoint}, {kind}: took {elapsed:.1f} s"
    if refused is True or (refused is None and response.status_code in REFUSED):
        assert response.status_code in REFUSED, f"{endpoint}, {kind}: {response.status_code} instead of a refusal"
        assert any(word in page for word in ("文件", "请求")), f"{endpoint}, {kind}: no Chinese reason"
        assert changed == [], f"{endpoint}, {kind}: a refused upload changed {changed}"
    else:
        assert response.status_code == success, f"{endpoint}, {kind}: {response.status_code}"
        assert "\u202e" not in page, f"{endpoint}, {kind}: the RTL override is shown"
    for path_ in stored:
        assert ".." not in path_.relative_to(world.storage).parts and "evil" not in path_.name
    assert files_outside_storage(world) == outside, f"{endpoint}, {kind}: a file was written outside storage"
    assert not any(_exists(p) for p in naive_destinations(world, name.replace("\x00", ""))), name


def test_an_evidence_file_with_a_hostile_name_keeps_a_clean_display_name(world):
    names = {"../../../../tmp/sec-upload-evil.pdf": "sec-upload-evil.pdf", "/etc/cron.d/evil.pdf": "evil.pdf",
             "报告\u202efdp.exe.pdf": "报告fdp.exe.pdf", "督" * 100 + ".pdf": None,
             "新城区2025年第三季度佐证材料（改造项目）.pdf": "新城区2025年第三季度佐证材料（改造项目）.pdf"}
    from tracker.reporting.models import Attachment
    from sqlmodel import select
    for name, shown in names.items():
        with undone(world.session, world.storage):
            send(world, "lead", "POST", f"/assignments/{world.lead_assignment}/attachments", keep=True,
                 data={"file": (io.BytesIO(PDF), name)}, content_type="multipart/form-data")
            attachment = world.session.exec(select(Attachment).order_by(Attachment.id.desc())).first()
            original, stored = attachment.original_name, attachment.stored_name
            download = send(world, "lead", "GET", f"/attachments/{attachment.id}", keep=True)
        assert "/" not in original and "\\" not in original and "\u202e" not in original and ".." not in original
        assert shown is None or original == shown, original
        assert len(original.encode()) <= 310 and original.endswith(".pdf")
        assert "evil" not in stored and ".." not in stored
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "/" not in disposition.split("filename=")[1].split(";")[0]


def test_an_oversized_request_gets_the_chinese_413_page(world):
    with configured(world, MAX_CONTENT_LENGTH=LIMIT):
        response = send(world, "office", "POST", "/units/contacts/import", content_type="multipart/form-data",
                        data={"document": (io.BytesIO(b"x" * (LIMIT + 1)), "联系人.csv")})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "文件过大" in page and "上传的文件超过了大小限制" in page and "Traceback" not in page
