"""The briefing pages and the dashboard: drafting with a live preview, publishing through the worker, the
archive and its download, who may do what, and query counts that do not grow with the plan."""
from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import quote

import pytest
from sqlmodel import func, select

from tracker.briefings.models import Briefing, BriefingStatus
from tracker.briefings.routes import PREVIEW_CSP, SVG_CSP
from tracker.briefings.services import archive, publishing
from tests.briefings.conftest import (ISSUE_DATE, LATE_AREA, MISSING_AREA, PUBLISHED_AT, break_renderer, build_city,
                                      new_briefing, storage_files)


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def form_of(city, **changes) -> dict:
    return {"round_id": str(city.round.id), "evaluation_id": str(city.evaluation.id),
            "title": "关于第三季度调度情况的通报", "issue_date": ISSUE_DATE.isoformat(), "opening": "",
            "problems": "", "next_steps": "", **changes}


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr("tracker.time.now", lambda: PUBLISHED_AT)


@pytest.fixture
def press(app):
    return publishing.Press.from_config(app.config, app.static_folder)


def publish_now(session, city, press, **texts) -> Briefing:
    briefing = new_briefing(session, city, **texts)
    return publishing.publish_briefing(session, briefing, press=press, actor=city.office, now=PUBLISHED_AT)


# --- drafting and previewing ---------------------------------------------------------------------------

def test_the_office_drafts_a_briefing_and_lands_on_its_page_with_a_preview(client, auth, city, session, clock):
    auth.login(city.office)
    page = client.get("/briefings/new")
    assert page.status_code == 200
    assert "关于2025年第三季度调度进展情况的通报" in page.get_data(as_text=True)
    assert "2025-10-20" in page.get_data(as_text=True)
    created = client.post("/briefings/new", data=form_of(city))
    assert created.status_code == 302
    briefing = session.exec(select(Briefing).order_by(Briefing.id.desc())).first()
    assert created.headers["Location"].endswith(f"/briefings/{briefing.id}")
    assert (briefing.status, briefing.number) == (BriefingStatus.draft, None)
    assert briefing.evaluation_id == city.evaluation.id
    detail = client.get(f"/briefings/{briefing.id}").get_data(as_text=True)
    assert f'src="/briefings/{briefing.id}/preview"' in detail and "sandbox" in detail
    assert 'data-preview-url="/briefings/preview"' in detail and "保存并发布" in detail
    preview = client.get(f"/briefings/{briefing.id}/preview")
    assert preview.headers["Content-Security-Policy"] == PREVIEW_CSP
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = preview.get_data(as_text=True)
    assert "关于第三季度调度情况的通报" in body and "2025年第　期" in body and "<script" not in body


def test_a_draft_without_a_title_is_shown_again_with_the_message_and_what_was_typed(client, auth, city, clock):
    auth.login(city.office)
    answer = client.post("/briefings/new", data=form_of(city, title=" ", problems="已经写好的问题"))
    assert answer.status_code == 422
    assert "请填写通报标题" in text_of(answer) and "已经写好的问题" in answer.get_data(as_text=True)


def test_the_live_preview_shows_what_is_typed_as_text_and_saves_nothing(client, auth, city, session, clock):
    auth.login(city.office)
    before = session.exec(select(func.count()).select_from(Briefing)).one()
    preview = client.post("/briefings/preview", data=form_of(city, problems="<img src=x onerror=alert(1)>一是……"))
    assert preview.status_code == 200 and preview.headers["Content-Security-Policy"] == PREVIEW_CSP
    body = preview.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;一是……" in body and "<img src=x" not in body
    assert "四、能耗强度目标完成情况" in body and "新城区" in body
    assert session.exec(select(func.count()).select_from(Briefing)).one() == before


def test_the_preview_of_an_incomplete_form_says_what_is_missing(client, auth, city, clock):
    auth.login(city.office)
    answer = client.post("/briefings/preview", data=form_of(city, round_id=""))
    assert answer.status_code == 422 and "请选择要通报的调度" in text_of(answer)
    assert answer.headers["Content-Security-Policy"] == PREVIEW_CSP


def test_saving_a_draft_keeps_the_free_text_as_typed(client, auth, city, session, clock):
    auth.login(city.office)
    briefing = new_briefing(session, city)
    answer = client.post(f"/briefings/{briefing.id}", data=form_of(city, next_steps="第一段\n第二段<b>"))
    assert answer.status_code == 302
    session.expire_all()
    assert session.get(Briefing, briefing.id).next_steps == "第一段\n第二段<b>"


# --- publishing through the worker, the archive, the download --------------------------------------------

def test_publishing_in_the_browser_queues_shows_progress_and_the_worker_publishes(client, auth, city, session, press,
                                                                                 clock):
    auth.login(city.office)
    briefing = new_briefing(session, city)
    answer = client.post(f"/briefings/{briefing.id}/publish", data=form_of(city, problems="一是<b>报送</b>不及时。"))
    assert answer.status_code == 302
    session.expire_all()
    assert session.get(Briefing, briefing.id).status is BriefingStatus.rendering
    waiting = client.get(f"/briefings/{briefing.id}").get_data(as_text=True)
    assert "正在生成 PDF" in waiting and f'data-poll-status="/briefings/{briefing.id}/status"' in waiting
    assert client.get(f"/briefings/{briefing.id}/status").get_json()["status"] == "rendering"
    published = publishing.render_next_briefing(session, press=press, worker="test", now=PUBLISHED_AT)
    assert published.status is BriefingStatus.published, published.render_error
    status = client.get(f"/briefings/{briefing.id}/status").get_json()
    assert status == {"status": "published", "label": "已发布", "error": None, "number": "2025年第1期"}
    page = client.get(f"/briefings/{briefing.id}")
    assert "下载 PDF" in text_of(page) and "一是<b>报送</b>不及时。" in text_of(page)
    assert "一是&lt;b&gt;报送&lt;/b&gt;不及时。" in page.get_data(as_text=True)
    assert f"/briefings/{briefing.id}/charts/lights.svg" in page.get_data(as_text=True)


def test_the_download_has_the_chinese_name_and_the_archived_bytes(client, auth, city, session, press, clock):
    briefing = publish_now(session, city, press)
    auth.login(city.unit_user)
    answer = client.get(f"/briefings/{briefing.id}/pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    name = "督查通报2025年第1期 关于2025年第三季度重点任务推进情况的通报.pdf"
    disposition = answer.headers["Content-Disposition"]
    assert disposition == (f'attachment; filename="briefing-2025-001.pdf"; filename*=UTF-8\'\'{quote(name, safe="")}')
    assert hashlib.sha256(answer.data).hexdigest() == briefing.pdf_sha256
    assert answer.data.startswith(b"%PDF")


def test_an_altered_archive_file_is_never_served(client, auth, city, session, press, clock):
    briefing = publish_now(session, city, press)
    path = archive.stored_path(press.storage_dir, briefing.pdf_stored_name)
    path.write_bytes(path.read_bytes() + b"%tampered")
    auth.login(city.office)
    answer = client.get(f"/briefings/{briefing.id}/pdf")
    assert answer.status_code == 409 and "校验值不符" in text_of(answer)


def test_a_failed_render_is_shown_to_the_office_in_words(client, auth, city, session, press, monkeypatch, clock):
    break_renderer(monkeypatch, publishing.pdf.RenderError("服务器缺少字体“X”"))
    briefing = publish_now(session, city, press)
    auth.login(city.office)
    page = text_of(client.get(f"/briefings/{briefing.id}"))
    assert "生成 PDF 失败，通报没有发布，也没有编号" in page and "服务器缺少字体“X”" in page
    assert storage_files(press.storage_dir) == []
    assert client.get(f"/briefings/{briefing.id}/pdf").status_code == 404


def test_the_list_shows_numbers_statuses_and_downloads(client, auth, city, session, press, clock):
    published = publish_now(session, city, press)
    draft = new_briefing(session, city)
    draft.title = "尚未发布的草稿"
    session.commit()
    auth.login(city.office)
    page = text_of(client.get("/briefings"))
    assert "2025年第1期" in page and "已发布" in page and "尚未发布的草稿" in page and "草稿" in page
    auth.login(city.leader)
    page = text_of(client.get("/briefings"))
    assert published.title in page and "尚未发布的草稿" not in page


# --- who may do what -------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["unit_user", "leader", "coordinator"])
def test_nobody_but_the_office_creates_previews_edits_or_publishes(client, auth, city, session, who, clock):
    draft = new_briefing(session, city)
    auth.login(getattr(city, who))
    assert client.get("/briefings/new").status_code == 403
    assert client.post("/briefings/new", data=form_of(city)).status_code == 403
    assert client.post("/briefings/preview", data=form_of(city)).status_code == 403
    assert client.post(f"/briefings/{draft.id}", data=form_of(city)).status_code == 403
    assert client.post(f"/briefings/{draft.id}/publish", data=form_of(city)).status_code == 403
    assert client.get(f"/briefings/{draft.id}").status_code == 404
    session.expire_all()
    assert session.get(Briefing, draft.id).status is BriefingStatus.draft


@pytest.mark.parametrize("who, dashboard", [("unit_user", 403), ("leader", 200), ("coordinator", 200),
                                            ("office", 200)])
def test_every_role_reads_published_briefings_and_leaders_office_and_coordinators_the_dashboard(
        client, auth, city, session, press, who, dashboard, clock):
    briefing = publish_now(session, city, press)
    auth.login(getattr(city, who))
    assert client.get(f"/briefings/{briefing.id}").status_code == 200
    assert client.get(f"/briefings/{briefing.id}/pdf").status_code == 200
    assert client.get(f"/briefings/{briefing.id}/charts/lights.svg").status_code == 200
    assert client.get("/dashboard").status_code == dashboard
    assert client.get("/dashboard/charts/sections.svg").status_code == dashboard
    nav = client.get("/briefings").get_data(as_text=True)
    assert ">督查通报</a>" in nav and (">领导看板</a>" in nav) == (dashboard == 200)


def test_publishing_needs_the_csrf_token(client, auth, city, session, app, clock):
    briefing = new_briefing(session, city)
    auth.login(city.office)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/briefings/{briefing.id}/publish", data=form_of(city)).status_code == 400
    session.expire_all()
    assert session.get(Briefing, briefing.id).status is BriefingStatus.draft


# --- charts and the dashboard ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/briefings/{id}/charts/lights.svg", "/briefings/{id}/charts/on_time.svg",
                                  "/briefings/{id}/charts/reduction.svg", "/dashboard/charts/sections.svg",
                                  "/dashboard/charts/late.svg", "/dashboard/charts/areas.svg",
                                  "/dashboard/charts/indicators.svg"])
def test_each_chart_is_an_inert_svg_served_by_the_app(client, auth, city, session, path, clock):
    briefing = new_briefing(session, city)
    auth.login(city.office)
    answer = client.get(path.format(id=briefing.id))
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert answer.headers["Content-Security-Policy"] == SVG_CSP
    svg = answer.get_data(as_text=True)
    assert svg.startswith("<svg") and "<script" not in svg and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "").replace('xmlns:xlink="http://www.w3.org/1999/xlink"', "")


def test_an_unknown_chart_is_not_found(client, auth, city, session, clock):
    briefing = new_briefing(session, city, evaluation=False)
    auth.login(city.office)
    assert client.get(f"/briefings/{briefing.id}/charts/reduction.svg").status_code == 404
    assert client.get(f"/briefings/{briefing.id}/charts/nothing.svg").status_code == 404
    assert client.get("/dashboard/charts/nothing.svg").status_code == 404


def test_the_dashboard_shows_lights_overdue_late_units_areas_and_indicators(client, auth, city, clock):
    auth.login(city.leader)
    page = text_of(client.get("/dashboard"))
    assert "2025年第三季度调度" in page
    assert "绿灯 6 黄灯 3 红灯 3 未评定 0" in page
    assert "二、实施节能减排重点工程 3 2 2 0" in page and "四、组织实施 2 0 0 0" in page
    assert "逾期未报事项（共 3 项）" in page and f"{MISSING_AREA} 二（一） 重点行业绿色升级工程" in page
    assert f"{LATE_AREA} 3 0" in page and f"{MISSING_AREA} 0 3" in page
    assert "1 新城区 9.12% 8.00% 96 超额完成" in page and "一票否决" in page
    assert "单位工业增加值能耗" in page and "1.08 （2024） 60.0%" in page
    assert "基期值“556.39亿千瓦时”的单位与本栏单位不符" in page


def test_the_dashboard_without_any_round_says_so(client, auth, make_user, clock):
    from tracker.accounts.models import UserRole
    auth.login(make_user(UserRole.leader))
    assert "还没有开启过调度" in text_of(client.get("/dashboard"))


# --- query budgets ---------------------------------------------------------------------------------------

def test_each_page_makes_the_same_number_of_queries_for_20_and_2000_tasks(client, auth, session, make_user,
                                                                         count_queries, press, fake_renderer, clock):
    counts: dict[str, list[int]] = {}
    for size in (20, 2000):
        city = build_city(session, make_user, task_count=size, slug=f"city-{size}")
        draft = new_briefing(session, city)
        published = publish_now(session, city, press, problems="一是……")
        auth.login(city.office)
        pages = {"dashboard": f"/dashboard?round={city.round.id}", "list": "/briefings",
                 "draft": f"/briefings/{draft.id}", "preview": f"/briefings/{draft.id}/preview",
                 "published": f"/briefings/{published.id}", "archive": f"/briefings/{published.id}/preview",
                 "chart": f"/briefings/{draft.id}/charts/on_time.svg",
                 "dashboard_chart": f"/dashboard/charts/sections.svg?round={city.round.id}",
                 "status": f"/briefings/{published.id}/status", "download": f"/briefings/{published.id}/pdf"}
        for name, path in pages.items():
            with count_queries() as counted:
                assert client.get(path).status_code == 200, path
            counts.setdefault(name, []).append(counted.count)
    growing = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    assert not growing, growing
    assert max(pair[0] for pair in counts.values()) <= 30, counts
