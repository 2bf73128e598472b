"""A briefing's PDF fails to render — the server lacks the fonts, the table is huge, the template is broken, the
disk fills up while archiving — each made to happen for real rather than by a stub raising RenderError.

Through the office's pages and the worker: publishing only queues (the web never renders); the worker records
an error the office can read, on the page and in the status the page polls; no PDF, whole or half, is stored
or served; no number is used up; once the cause is gone, publishing again works. And a render stuck for
minutes leaves web requests — reads and writes — answered at once."""
from __future__ import annotations

import functools
import json
import os
import resource
import subprocess
import sys
import textwrap
import threading
import time as clock
from pathlib import Path

import jinja2
import pytest
from sqlmodel import Session, select

from config import TestConfig
from tracker import create_app
from tracker.accounts.models import User, UserRole
from tracker.audit.models import AuditEvent
from tracker.briefings import document, pdf
from tracker.briefings.models import Briefing, BriefingStatus, JobStatus, RenderJob
from tracker.briefings.services import archive, publishing
from tests.briefings.conftest import PUBLISHED_AT, STATIC, build_city, new_briefing, storage_files
from tests.factories import _TEST_HASH

REAL_RENDER = pdf.render_pdf
RENDER_PDF = "tracker.briefings.services.publishing.pdf.render_pdf"
FAILURE_TEXT = "生成 PDF 失败，通报没有发布，也没有编号"


@pytest.fixture
def clock_at_publication(monkeypatch):
    monkeypatch.setattr("tracker.time.now", lambda: PUBLISHED_AT)


@pytest.fixture
def press(app) -> publishing.Press:
    """The press the web app's own pages read the archive from."""
    return publishing.Press.from_config(app.config, app.static_folder)


# --- the faults, made real -------------------------------------------------------------------------------

FONTLESS_RENDER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from tracker.briefings import pdf
    html = Path(sys.argv[1]).read_text(encoding="utf-8")
    try:
        Path(sys.argv[3]).write_bytes(pdf.render_pdf(html, static_folder=Path(sys.argv[2])))
        print(json.dumps({"ok": True}))
    except pdf.RenderError as exc:
        print(json.dumps({"ok": False, "message": exc.message}))
""")

#: fontconfig as installed, minus every Noto CJK font: a server without Debian's fonts-noto-cjk
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><glob>*CJK*</glob></rejectfont></selectfont>
</fontconfig>
"""


def render_without_cjk_fonts(folder: Path):
    """render_pdf as a process on a server whose fontconfig has no CJK font runs it (WeasyPrint reads the fonts
    once per process, so the missing fonts need a process of their own)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fonts.conf").write_text(NO_CJK_FONTS)
    (folder / "render.py").write_text(FONTLESS_RENDER)

    def render(html, **options):
        (folder / "in.html").write_text(html, encoding="utf-8")
        done = subprocess.run([sys.executable, str(folder / "render.py"), str(folder / "in.html"),
                               str(options["static_folder"]), str(folder / "out.pdf")],
                              env={**os.environ, "FONTCONFIG_FILE": str(folder / "fonts.conf"),
                                   "PYTHONPATH": os.getcwd()},
                              capture_output=True, text=True, timeout=120, check=True)
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        if not answer["ok"]:
            raise pdf.RenderError(answer["message"])
        return (folder / "out.pdf").read_bytes()

    return render


def broken_template_environment(break_it) -> jinja2.Environment:
    """The document environment with the real briefing template broken by `break_it(source)`."""
    real = document._environment
    source = Path(document.TEMPLATES, document.DOCUMENT_TEMPLATE).read_text(encoding="utf-8")
    return real.overlay(loader=jinja2.ChoiceLoader([jinja2.DictLoader({document.DOCUMENT_TEMPLATE: break_it(source)}),
                                                    real.loader]))


def disk_full_while_archiving(monkeypatch, room: int):
    real_write = archive.write_whole

    def write_with_little_room(path, data):
        assert len(data) > room
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, hard))
        try:
            real_write(path, data)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    monkeypatch.setattr("tracker.briefings.services.publishing.archive.write_whole", write_with_little_room)


#: name → (tasks in the briefing's plan, words the office must read)
FAULTS = {
    "missing_font": (12, "服务器缺少字体“Noto Serif CJK SC”“Noto Sans CJK SC”"),
    "huge_table_over_the_page_limit": (60, "页的上限"),
    "huge_table_over_the_size_limit": (60, "通报内容过大"),
    "template_syntax_error": (12, "通报模板有错误（TemplateSyntaxError"),
    "template_undefined_name": (12, "通报模板有错误（UndefinedError"),
    "disk_full_while_archiving": (12, "服务器存储空间不足或存档目录不可写，PDF 没有保存"),
}


def cause(fault: str, monkeypatch, tmp_path) -> None:
    if fault == "missing_font":
        monkeypatch.setattr(RENDER_PDF, render_without_cjk_fonts(tmp_path / "fontless"))
    elif fault == "huge_table_over_the_page_limit":
        monkeypatch.setattr(RENDER_PDF, functools.partial(REAL_RENDER, max_pages=6))
    elif fault == "huge_table_over_the_size_limit":
        monkeypatch.setattr(pdf, "MAX_HTML_BYTES", 64 * 1024)
    elif fault == "template_syntax_error":
        monkeypatch.setattr(document, "_environment", broken_template_environment(
            lambda source: source.replace("</body>", "{% if c.title %}</body>")))
    elif fault == "template_undefined_name":
        monkeypatch.setattr(document, "_environment", broken_template_environment(
            lambda source: source.replace("</body>", "{{ c.no_such_section.title }}</body>")))
    elif fault == "disk_full_while_archiving":
        disk_full_while_archiving(monkeypatch, room=4096)


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_render_is_readable_by_the_office_serves_no_pdf_and_uses_no_number(
        fault, session, make_user, client, auth, press, monkeypatch, tmp_path, clock_at_publication):
    tasks, words = FAULTS[fault]
    city = build_city(session, make_user, task_count=tasks)
    briefing = new_briefing(session, city)
    auth.login(city.office)

    def never_in_a_request(html, **options):
        raise AssertionError("the web rendered a PDF inside a request")

    monkeypatch.setattr(RENDER_PDF, never_in_a_request)
    started = clock.monotonic()
    assert client.post(f"/briefings/{briefing.id}/publish").status_code == 302
    assert clock.monotonic() - started < 2  # publishing only queues: the web worker is free at once
    monkeypatch.setattr(RENDER_PDF, REAL_RENDER)

    with monkeypatch.context() as fault_context:
        cause(fault, fault_context, tmp_path)
        failed = publishing.render_next_briefing(session, press=press, worker="w", now=PUBLISHED_AT)
    assert failed.id == briefing.id and failed.status is BriefingStatus.failed
    assert words in failed.render_error and "Traceback" not in failed.render_error
    assert failed.number is None and failed.pdf_stored_name is None and failed.snapshot == {}
    job = session.exec(select(RenderJob).where(RenderJob.briefing_id == briefing.id)).one()
    assert (job.status, job.error, job.lease_until) == (JobStatus.failed, failed.render_error, None)
    assert storage_files(press.storage_dir) == []  # no PDF and no half-written temporary file
    assert session.exec(select(AuditEvent.action).where(AuditEvent.target_type == "briefings",
                                                        AuditEvent.target_id == briefing.id)
                        .order_by(AuditEvent.id.desc())).first() == "briefing.render_failed"
    # what the office sees: the reason in words on the page and in the status it polls; no download
    page = client.get(f"/briefings/{briefing.id}").get_data(as_text=True)
    assert FAILURE_TEXT in page and words in page
    status = client.get(f"/briefings/{briefing.id}/status").get_json()
    assert status == {"status": "failed", "label": "生成失败", "error": failed.render_error, "number": None}
    assert client.get(f"/briefings/{briefing.id}/pdf").status_code == 404

    # the cause removed (fonts installed, a shorter briefing, the template fixed, room on the disk): it publishes
    # with the first number of the year, and that PDF, whole, is what is served
    assert client.post(f"/briefings/{briefing.id}/publish").status_code == 302
    done = publishing.render_next_briefing(session, press=press, worker="w", now=PUBLISHED_AT)
    assert done.status is BriefingStatus.published and done.number == 1, done.render_error
    download = client.get(f"/briefings/{briefing.id}/pdf")
    assert download.status_code == 200 and archive.sha256_of(download.data) == done.pdf_sha256
    stored = storage_files(press.storage_dir)
    assert len(stored) == 1 and stored[0].suffix == ".pdf" and not stored[0].name.startswith(".")


# --- web workers are not blocked by a render that takes minutes ------------------------------------------------

def _seed_city(engine):
    with Session(engine, expire_on_commit=False) as session:
        counter = iter(range(1000))

        def make_user(role=UserRole.unit, *, unit=None):
            from tracker.agencies.models import Unit
            unit = unit or Unit(name=f"用户单位{next(counter)}", created_dt=PUBLISHED_AT)
            session.add(unit)
            session.flush()
            user = User(username=f"u{next(counter)}", display_name="测试", unit_id=unit.id, role=role,
                        email="u@example.gov.cn", password_hash=_TEST_HASH, created_dt=PUBLISHED_AT,
                        password_changed_dt=PUBLISHED_AT)
            session.add(user)
            session.flush()
            return user

        city = build_city(session, make_user)
        briefing = new_briefing(session, city)
        publishing.request_publication(session, briefing, actor=city.office, now=PUBLISHED_AT)
        return city, briefing.id


@pytest.mark.slow
def test_a_render_stuck_for_minutes_leaves_web_reads_and_writes_answered_at_once(
        standalone_database, tmp_path, monkeypatch):
    url, engine = standalone_database
    city, briefing_id = _seed_city(engine)
    stuck, release = threading.Event(), threading.Event()

    def huge_table(html, **options):
        stuck.set()
        release.wait(timeout=120)  # laying out a table of thousands of rows
        raise pdf.RenderError("通报排版后有 900 页，超过 400 页的上限；请分期通报")

    monkeypatch.setattr(RENDER_PDF, huge_table)
    press = publishing.Press(storage_dir=tmp_path / "storage", static_folder=STATIC)
    outcome: list = []

    def worker():
        try:
            with Session(engine, expire_on_commit=False) as session:
                outcome.append(publishing.render_next_briefing(session, press=press, worker="w", now=PUBLISHED_AT))
        except BaseException as exc:
            outcome.append(exc)

    class Config(TestConfig):
        DATABASE_URL = url
        INSTANCE_DIR = tmp_path
        STORAGE_DIR = tmp_path / "storage"

    monkeypatch.setattr("tracker.time.now", lambda: PUBLISHED_AT)
    app = create_app(Config)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"], cookie["_fresh"] = city.office.get_id(), True
        cookie["login_dt"] = cookie["seen_dt"] = PUBLISHED_AT.isoformat()
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert stuck.wait(timeout=60)
        timings = {}
        for name, call in {
            "status": lambda: client.get(f"/briefings/{briefing_id}/status"),
            "list": lambda: client.get("/briefings"),
            "new draft (a write)": lambda: client.post("/briefings/new", data={
                "round_id": str(city.round.id), "evaluation_id": str(city.evaluation.id), "title": "另一期通报",
                "issue_date": PUBLISHED_AT.date().isoformat(), "opening": "", "problems": "", "next_steps": ""}),
        }.items():
            started = clock.monotonic()
            response = call()
            timings[name] = (response.status_code, clock.monotonic() - started)
        assert timings["status"][0] == 200 and timings["list"][0] == 200 and timings["new draft (a write)"][0] == 302
        assert all(seconds < 2 for _, seconds in timings.values()), timings
        assert client.get(f"/briefings/{briefing_id}/status").get_json()["status"] == "rendering"
    finally:
        release.set()
        thread.join(timeout=60)
        app.extensions["tracker_db"].engine.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], Briefing), outcome
    with Session(engine) as session:
        briefing = session.get(Briefing, briefing_id)
        assert briefing.status is BriefingStatus.failed and "超过 400 页的上限" in briefing.render_error
        assert session.exec(select(Briefing).where(Briefing.title == "另一期通报")).one().status is BriefingStatus.draft
    assert storage_files(tmp_path / "storage") == []
