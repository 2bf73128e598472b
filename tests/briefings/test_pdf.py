"""The PDF: pages, embedded font subsets, extracted text, free text kept as text, a fetcher that serves only the
app's own files, and a failed render that is reported and leaves nothing behind."""
from __future__ import annotations

import re
import socket

import jinja2
import pytest
from sqlmodel import select

from tracker.audit.models import AuditEvent
from tracker.briefings import pdf
from tracker.briefings.models import BriefingStatus
from tracker.briefings.services import archive, drafts, publishing
from tests.briefings.conftest import (LATE_AREA, MISSING_AREA, PUBLISHED_AT, STATIC, break_renderer, new_briefing,
                                      poppler, storage_files)

MARKUP = '请各单位注意<b>加粗</b>与<script>alert("x")</script>的区别&amp;'
FLAT = re.compile(r"\s+")


@pytest.fixture
def published(session, city, press):
    briefing = new_briefing(session, city, opening=MARKUP, problems="一是部分单位报送不及时。\n二是个别任务进度滞后。",
                            next_steps="进一步加强调度督办。")
    briefing = publishing.publish_briefing(session, briefing, press=press, actor=city.office, now=PUBLISHED_AT)
    assert briefing.status is BriefingStatus.published, briefing.render_error
    return briefing, archive.stored_path(press.storage_dir, briefing.pdf_stored_name)


def test_the_published_pdf_is_a4_and_its_page_count_is_recorded(published):
    briefing, path = published
    info = poppler("pdfinfo", path)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages == briefing.pdf_page_count
    assert 4 <= pages <= 10
    assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info, re.M)
    assert path.stat().st_size == briefing.pdf_size_bytes


def embedded_fonts(path) -> list[tuple[str, str, str]]:
    """(name, emb, sub) for each font `pdffonts` lists."""
    fonts = []
    for row in poppler("pdffonts", path).splitlines()[2:]:
        emb, sub = re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row).group(1, 2)
        fonts.append((row.split()[0], emb, sub))
    return fonts


def assert_song_and_hei_subsets(path) -> None:
    fonts = embedded_fonts(path)
    assert fonts and all((emb, sub) == ("yes", "yes") for _, emb, sub in fonts), fonts
    assert all(re.match(r"^[A-Z]{6}\+", name) for name, _, _ in fonts), fonts
    names = [name for name, _, _ in fonts]
    assert any("Noto-Serif-CJK-SC" in name for name in names)
    assert any("Noto-Sans-CJK-SC" in name for name in names)
    assert all("Noto-Serif-CJK-SC" in name or "Noto-Sans-CJK-SC" in name for name in names), names


def test_the_pdf_embeds_only_subsets_of_the_song_and_hei_fonts(published):
    assert_song_and_hei_subsets(published[1])


def test_the_pdf_text_carries_the_number_the_office_every_task_and_the_named_late_units(published, city):
    _, path = published
    layout = poppler("pdftotext", "-layout", path, "-")
    assert "2025年第1期" in layout and "2025年10月20日" in layout
    assert "某市人民政府办公室" in layout and "督查通报" in FLAT.sub("", layout)
    assert f"以下1个单位仍有进展报告逾期未" in layout
    assert MISSING_AREA in layout and LATE_AREA in layout
    pages = len(layout.split("\f")) - 1
    assert all(re.search(rf"—\s*{n}\s*—", layout) for n in range(1, pages + 1))
    flowing = FLAT.sub("", poppler("pdftotext", path, "-"))
    for title in city.titles:
        assert title in flowing
    assert f"{MISSING_AREA}（3份）" in flowing and f"迟报）：{LATE_AREA}（3份）" in flowing
    assert "一是部分单位报送不及时。" in flowing and "进一步加强调度督办。" in flowing


def test_markup_typed_into_a_free_section_arrives_in_the_pdf_and_the_html_as_text(session, published, press):
    briefing, path = published
    flowing = FLAT.sub("", poppler("pdftotext", path, "-"))
    assert FLAT.sub("", MARKUP) in flowing
    html = drafts.briefing_html(session, briefing, issuer=press.issuer)
    assert "&lt;b&gt;加粗&lt;/b&gt;与&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;的区别&amp;amp;" in html
    assert "<script" not in html and "<b>" not in html


def test_the_snapshot_freezes_what_was_published(session, published, city, press):
    briefing, _ = published
    assert briefing.snapshot["number_label"] == "2025年第1期"
    assert briefing.snapshot["issuer"] == "某市人民政府办公室"
    assert [row["title"] for row in briefing.snapshot["tasks"]] == city.titles
    city.tasks[0].title = "改名以后的任务"
    session.commit()
    assert "改名以后的任务" not in drafts.briefing_html(session, briefing, issuer="别的机关")
    assert "某市人民政府办公室" in drafts.briefing_html(session, briefing, issuer="别的机关")


# --- the URL fetcher ---------------------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch):
    """Fail if anything opens a socket to another host."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "https://example.com/x.png", "http://127.0.0.1:5432/",
                                 "ftp://example.com/x", "https://tracker.invalid/static/../../../../etc/passwd",
                                 "https://tracker.invalid/other/app.css"])
def test_the_fetcher_refuses_files_remote_urls_and_paths_out_of_the_static_folder(url, no_network):
    fetcher = pdf.StaticOnlyFetcher(STATIC)
    with pytest.raises(pdf.RefusedURL):
        fetcher.fetch(url)


def test_the_fetcher_serves_the_apps_own_static_files_and_data_uris(no_network):
    fetcher = pdf.StaticOnlyFetcher(STATIC)
    stylesheet = fetcher.fetch(pdf.BASE_URL + "static/css/app.css")
    assert stylesheet.read() == (STATIC / "css" / "app.css").read_bytes()
    assert stylesheet.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,5Lit5paH").read() == "中文".encode()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "https://example.com/x.png"])
def test_a_template_that_names_a_file_or_a_remote_url_is_refused_by_render_pdf(url, no_network):
    html = (f'<html><body><p style="font-family: \'Noto Serif CJK SC\'">正文</p><img src="{url}"></body></html>')
    with pytest.raises(pdf.RenderError) as refused:
        pdf.render_pdf(html, static_folder=STATIC, required_fonts=())
    assert "已拒绝" in refused.value.message and url in refused.value.message


def test_a_template_stylesheet_from_the_static_folder_is_read_from_disk(no_network):
    html = ('<html><head><link rel="stylesheet" href="/static/css/app.css"></head>'
            '<body><h1>标题</h1><p>正文</p></body></html>')
    data = pdf.render_pdf(html, static_folder=STATIC, required_fonts=())
    assert data.startswith(b"%PDF") and pdf.count_pdf_pages(data) == 1


def test_passwd_never_reaches_the_pdf(no_network):
    html = '<html><body><p>正文</p><img src="file:///etc/passwd"><iframe src="file:///etc/passwd"></iframe></body></html>'
    try:
        data = pdf.render_pdf(html, static_folder=STATIC, required_fonts=())
    except pdf.RenderError:
        return
    assert b"root:" not in data


def test_a_missing_font_family_is_a_readable_error():
    html = '<html><body><p style="font-family: \'No Such Song\'">正文</p></body></html>'
    with pytest.raises(pdf.RenderError) as failed:
        pdf.render_pdf(html, static_folder=STATIC, required_fonts=("No Such Song",))
    assert "缺少字体“No Such Song”" in failed.value.message and "fonts-noto-cjk" in failed.value.message


def test_a_document_over_the_page_limit_is_refused():
    html = "<html><body>" + "<p style='page-break-after: always'>页</p>" * 3 + "</body></html>"
    with pytest.raises(pdf.RenderError, match="超过 2 页的上限"):
        pdf.render_pdf(html, static_folder=STATIC, required_fonts=(), max_pages=2)


# --- a failing render ----------------------------------------------------------------------------------

def test_a_failing_render_is_reported_and_leaves_no_number_and_no_file(session, city, press, monkeypatch):
    break_renderer(monkeypatch, pdf.RenderError("PDF 排版失败（表格过大）"))
    briefing = new_briefing(session, city)
    result = publishing.publish_briefing(session, briefing, press=press, actor=city.office, now=PUBLISHED_AT)
    assert result.status is BriefingStatus.failed
    assert result.render_error == "PDF 排版失败（表格过大）"
    assert result.number is None and result.pdf_stored_name is None and result.snapshot == {}
    assert storage_files(press.storage_dir) == []
    assert session.exec(select(AuditEvent.action).where(AuditEvent.target_id == briefing.id,
                                                        AuditEvent.target_type == "briefings")).all()[-1] \
        == "briefing.render_failed"


def test_a_broken_template_is_reported_in_words_and_the_office_may_retry(session, city, press, monkeypatch):
    def broken_template(content):
        raise jinja2.UndefinedError("'x' is undefined")

    monkeypatch.setattr("tracker.briefings.services.publishing.render_document", broken_template)
    briefing = new_briefing(session, city)
    failed = publishing.publish_briefing(session, briefing, press=press, actor=city.office, now=PUBLISHED_AT)
    assert failed.status is BriefingStatus.failed and failed.render_error.startswith("通报模板有错误")
    monkeypatch.undo()
    retried = publishing.publish_briefing(session, failed, press=press, actor=city.office, now=PUBLISHED_AT)
    assert retried.status is BriefingStatus.published and retried.number == 1 and retried.render_error is None
    assert len(storage_files(press.storage_dir)) == 1


def test_a_disk_that_cannot_be_written_leaves_no_half_file(session, city, press, monkeypatch, fake_renderer):
    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tracker.briefings.services.publishing.archive.write_whole", full)
    briefing = publishing.publish_briefing(session, new_briefing(session, city), press=press, actor=city.office,
                                           now=PUBLISHED_AT)
    assert briefing.status is BriefingStatus.failed and "存储空间不足" in briefing.render_error
    assert briefing.number is None and storage_files(press.storage_dir) == []


def test_write_whole_removes_its_temporary_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "briefings" / "2025" / "x.pdf"

    def explode(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", explode)
    with pytest.raises(OSError):
        archive.write_whole(target, b"%PDF-1.7 ...")
    assert storage_files(tmp_path) == []


# --- the largest realistic briefing: the Hohhot plan ------------------------------------------------------

def test_the_hohhot_briefing_pdf_names_every_task_and_every_overdue_unit(session, make_user, press):
    from tracker.accounts.models import UserRole
    from tracker.tasks.models import Task
    from tests.briefings.conftest import build_hohhot

    reporting_round, evaluation = build_hohhot(session)
    office = make_user(UserRole.office)
    draft = drafts.Draft(round_id=reporting_round.id, evaluation_id=evaluation.id,
                         title="关于2025年第三季度调度进展情况的通报", issue_date=PUBLISHED_AT.date())
    briefing = drafts.create_briefing(session, draft, actor=office, now=PUBLISHED_AT)
    briefing = publishing.publish_briefing(session, briefing, press=press, actor=office, now=PUBLISHED_AT)
    assert briefing.status is BriefingStatus.published, briefing.render_error
    path = archive.stored_path(press.storage_dir, briefing.pdf_stored_name)
    pages = int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", path), re.M).group(1))
    assert pages == briefing.pdf_page_count and 8 <= pages <= 30
    assert_song_and_hei_subsets(path)
    layout = poppler("pdftotext", "-layout", path, "-")
    flowing = FLAT.sub("", poppler("pdftotext", path, "-"))
    assert "2025年第1期" in layout and "呼和浩特市人民政府办公室" not in layout  # the test press issues it
    titles = session.exec(select(Task.title).where(Task.plan_id == reporting_round.plan_id)).all()
    assert len(titles) == 21 and all(FLAT.sub("", title) in flowing for title in titles)
    overdue = [row["unit"] for row in briefing.snapshot["overdue"]]
    late = [row["unit"] for row in briefing.snapshot["late"]]
    assert overdue and late
    assert all(name in flowing for name in overdue + late)
