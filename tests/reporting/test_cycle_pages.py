"""The reporting cycle through the pages: report, return (退办), resubmit, accept, consolidate, approve."""
from __future__ import annotations

import html
import io

from sqlmodel import select

from tracker.reporting.models import (Attachment, ReportedValue, ReportStatus, ReviewStatus, TaskReport,
                                      UnitReport)
from tests.reporting.conftest import PDF, assignment_id, at, text_of


def report_of(session, world, unit) -> UnitReport:
    return session.exec(select(UnitReport).where(UnitReport.round_id == world.round.id,
                                                 UnitReport.unit_id == unit.id)).one()


def values_of(session, report) -> list[str]:
    return [str(v) for v in session.exec(select(ReportedValue.value).where(ReportedValue.report_id == report.id))]


def light_section(page: str) -> str:
    return page.split("红黄绿灯", 1)[1].split("各单位报告", 1)[0]


def test_a_report_goes_through_the_whole_cycle_and_the_light_changes(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    review_url = f"/rounds/{world.round.id}/tasks/{world.task.id}"
    value = f"value_{world.target.id}"

    auth.login(world.first_user)
    form = text_of(client.get(f"/assignments/{mine}"))
    assert "甲工程" in form and "市甲局" in form and "绿色工厂" in form and "不低于 35 家" in form
    assert "保存草稿" in form and "报送" in form

    saved = client.post(f"/assignments/{mine}", data={"progress_text": "已创建绿色工厂30家", value: "30",
                                                       "save_draft": "保存草稿"})
    assert saved.status_code == 302
    report = report_of(session, world, world.first)
    assert report.status is ReportStatus.draft and values_of(session, report) == ["30"]

    uploaded = client.post(f"/assignments/{mine}/attachments",
                           data={"file": (io.BytesIO(PDF), "督查报告（第一季度）.pdf")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302
    assert "督查报告（第一季度）.pdf" in text_of(client.get(f"/assignments/{mine}"))

    submitted = client.post(f"/assignments/{mine}", data={"progress_text": "已创建绿色工厂30家", value: "30",
                                                           "submit_report": "报送"})
    assert submitted.status_code == 302 and report.status is ReportStatus.submitted and report.is_late is False
    assert "等待牵头单位审核" in text_of(client.get(f"/assignments/{mine}"))

    auth.login(world.lead_user)
    before = text_of(client.get(review_url))
    assert "已创建绿色工厂30家" in before and "督查报告（第一季度）.pdf" in before and "采纳" in before
    assert "未评定" not in light_section(before) and "绿灯" in light_section(before)
    blank = client.post(f"{review_url}/reports/{report.id}/review", data={"decision": "return", "reason": " "})
    assert blank.status_code == 422 and "请写明理由" in text_of(blank)
    returned = client.post(f"{review_url}/reports/{report.id}/review",
                           data={"decision": "return", "reason": "请补充绿色工厂名单和认定文件"})
    assert returned.status_code == 302 and report.status is ReportStatus.returned

    auth.login(world.first_user)
    again = text_of(client.get(f"/assignments/{mine}"))
    assert "牵头单位退回了这份报告" in again and "请补充绿色工厂名单和认定文件" in again
    assert "请补充绿色工厂名单和认定文件" in text_of(client.get("/todo"))
    resubmitted = client.post(f"/assignments/{mine}", data={"progress_text": "已补充名单：36家", value: "36",
                                                             "submit_report": "报送"})
    assert resubmitted.status_code == 302 and report.status is ReportStatus.submitted
    assert values_of(session, report) == ["36"]

    auth.login(world.lead_user)
    accepted = client.post(f"{review_url}/reports/{report.id}/review", data={"decision": "accept", "reason": ""})
    assert accepted.status_code == 302 and report.status is ReportStatus.accepted
    behind = client.post(f"{review_url}/consolidate", data={
        "progress": "in_progress", "progress_pct": "40", "narrative": "绿色工厂创建推进中", "light_override": "",
        "light_override_reason": ""})
    assert behind.status_code == 302
    yellow = light_section(text_of(client.get(review_url)))
    assert "黄灯" in yellow and "落后于序时进度" in yellow
    overridden = client.post(f"{review_url}/consolidate", data={
        "progress": "in_progress", "progress_pct": "40", "narrative": "绿色工厂创建推进中", "light_override": "green",
        "light_override_reason": "第四季度集中认定，进度将赶上"})
    assert overridden.status_code == 302
    green = light_section(text_of(client.get(review_url)))
    assert "绿灯" in green and "第四季度集中认定，进度将赶上" in green and "规则计算： 黄灯" in green

    auth.login(world.coordinator)
    approved = client.post(f"{review_url}/task-report/review", data={"decision": "accept"})
    assert approved.status_code == 302
    task_report = session.exec(select(TaskReport).where(TaskReport.round_id == world.round.id)).one()
    assert task_report.review_status is ReviewStatus.accepted
    history = text_of(client.get(f"/tasks/{world.task.id}"))
    for step in ("保存报告草稿", "上传佐证材料", "报送报告", "退回报告（退办）", "采纳报告", "报送汇总报告",
                 "调整红黄绿灯", "采纳汇总报告"):
        assert step in history, step
    assert "（红黄绿灯： 绿灯 → 黄灯 ）" in history and "（红黄绿灯： 黄灯 → 绿灯 ）" in history


def test_returning_a_report_without_a_reason_keeps_the_page_and_changes_nothing(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", "submit_report": "报送"})
    report = report_of(session, world, world.first)
    auth.login(world.lead_user)
    response = client.post(f"/rounds/{world.round.id}/tasks/{world.task.id}/reports/{report.id}/review",
                           data={"decision": "return", "reason": ""})
    assert response.status_code == 422 and "请写明理由" in text_of(response)
    assert report.status is ReportStatus.submitted


def test_submitting_without_progress_text_is_refused_on_the_field_and_keeps_the_figures(
        client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    response = client.post(f"/assignments/{mine}", data={"progress_text": "  ", f"value_{world.target.id}": "12.50",
                                                          "submit_report": "报送"})
    assert response.status_code == 422
    assert "报送前请填写工作进展" in text_of(response) and 'value="12.50"' in response.get_data(as_text=True)
    assert session.exec(select(UnitReport)).first() is None


def test_a_figure_that_is_not_a_number_gets_a_chinese_error_on_its_field(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    for typed in ("三十六", "36家", "1e5", "NaN", "12.3.4", "9" * 16):
        response = client.post(f"/assignments/{mine}", data={"progress_text": "进展",
                                                              f"value_{world.target.id}": typed,
                                                              "save_draft": "保存草稿"})
        assert response.status_code == 422, typed
        page = response.get_data(as_text=True)
        assert "请填写数字" in page and f'value="{html.escape(typed)}"' in page, typed
    assert session.exec(select(UnitReport)).first() is None


def test_full_width_digits_and_thousands_commas_are_read_as_numbers_and_blank_means_none(
        client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", f"value_{world.target.id}": "１,２３６．５",
                                               "save_draft": "保存草稿"})
    report = report_of(session, world, world.first)
    assert values_of(session, report) == ["1236.5"]
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", f"value_{world.target.id}": "",
                                               "save_draft": "保存草稿"})
    assert values_of(session, report) == []
    assert "1236.5" not in client.get(f"/assignments/{mine}").get_data(as_text=True)


def test_a_report_submitted_after_the_due_date_shows_the_late_badge(client, auth, session, world, clock):
    clock.set(at(2025, 10, 13))
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    assert "已逾期" in text_of(client.get(f"/assignments/{mine}"))
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", "submit_report": "报送"})
    assert report_of(session, world, world.first).is_late
    assert "迟报" in text_of(client.get(f"/assignments/{mine}"))
    auth.login(world.lead_user)
    assert "迟报" in text_of(client.get(f"/rounds/{world.round.id}/tasks/{world.task.id}"))


def test_those_who_may_only_read_see_the_report_without_a_form(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": "本单位的进展", "save_draft": "保存草稿"})
    for reader in (world.lead_user, world.office, world.coordinator, world.leader):
        auth.login(reader)
        response = client.get(f"/assignments/{mine}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "本单位的进展" in page
        assert 'name="progress_text"' not in page and 'type="file"' not in page
        denied = client.post(f"/assignments/{mine}", data={"progress_text": "改掉", "save_draft": "保存草稿"})
        assert denied.status_code == 403
    assert report_of(session, world, world.first).progress_text == "本单位的进展"


def test_a_submitted_report_is_read_only_for_its_unit_until_it_is_returned(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", "submit_report": "报送"})
    page = client.get(f"/assignments/{mine}").get_data(as_text=True)
    assert 'name="progress_text"' not in page and 'type="file"' not in page
    refused = client.post(f"/assignments/{mine}", data={"progress_text": "改", "save_draft": "保存草稿"})
    assert refused.status_code == 409 and "不能修改" in text_of(refused)
    upload = client.post(f"/assignments/{mine}/attachments", data={"file": (io.BytesIO(PDF), "a.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 409 and session.exec(select(Attachment)).first() is None


def test_only_the_lead_sees_review_buttons_and_only_coordinators_and_the_office_approve(
        client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    review_url = f"/rounds/{world.round.id}/tasks/{world.task.id}"
    auth.login(world.first_user)
    client.post(f"/assignments/{mine}", data={"progress_text": "进展", "submit_report": "报送"})
    auth.login(world.lead_user)
    client.post(f"{review_url}/consolidate", data={"progress": "in_progress", "progress_pct": "90",
                                                   "narrative": "顺利"})
    for overseer in (world.coordinator, world.office, world.leader):
        auth.login(overseer)
        page = client.get(review_url).get_data(as_text=True)
        assert 'value="accept">采纳</button>' not in page and "报送汇总情况</button>" not in page
        assert ("采纳汇总报告" in page) is (overseer is not world.leader)
    auth.login(world.leader)
    assert client.post(f"{review_url}/task-report/review", data={"decision": "accept"}).status_code == 403
    auth.login(world.lead_user)
    assert client.post(f"{review_url}/task-report/review", data={"decision": "accept"}).status_code == 403
    task_report = session.exec(select(TaskReport)).one()
    assert task_report.review_status is ReviewStatus.submitted
    auth.login(world.office)
    returned = client.post(f"{review_url}/task-report/review", data={"decision": "return", "reason": "请补充数据来源"})
    assert returned.status_code == 302 and task_report.review_status is ReviewStatus.returned
    auth.login(world.lead_user)
    assert "请补充数据来源" in text_of(client.get(review_url))


def test_an_override_without_a_reason_is_refused_on_the_reason_field(client, auth, session, world, clock):
    auth.login(world.lead_user)
    response = client.post(f"/rounds/{world.round.id}/tasks/{world.task.id}/consolidate", data={
        "progress": "lagging", "progress_pct": "120", "narrative": "滞后", "light_override": "green"})
    assert response.status_code == 422 and "完成进度请填写 0 到 100 之间的数字" in text_of(response)
    response = client.post(f"/rounds/{world.round.id}/tasks/{world.task.id}/consolidate", data={
        "progress": "lagging", "progress_pct": "20", "narrative": "滞后", "light_override": "green"})
    assert response.status_code == 422 and "请写明理由" in text_of(response)
    assert 'value="20"' in response.get_data(as_text=True)
    assert session.exec(select(TaskReport)).first() is None
