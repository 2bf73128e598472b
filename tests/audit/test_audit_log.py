"""The audit log is append-only, one line per entry, and the office can search it page by page."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.audit import services as audit
from tracker.audit.models import AuditEvent
from tests.conftest import NOW


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


class Actor:
    def __init__(self, name, id=None):
        self.display_name, self.id = name, id


def add_event(session, *, action="report.submitted", actor="张三", summary="报送报告", at=NOW, task_id=None):
    return audit.record(session, actor=Actor(actor), action=action, summary=summary, now=at, task_id=task_id)


@pytest.fixture
def event(session):
    entry = add_event(session, summary="原始内容")
    session.commit()
    return entry


# --- append-only -----------------------------------------------------------------------------------

def test_an_audit_row_cannot_be_changed_through_the_orm(session, event):
    event.summary = "篡改后的内容"
    with pytest.raises(PermissionError, match="只能追加"):
        session.commit()
    session.rollback()
    assert session.exec(select(AuditEvent.summary).where(AuditEvent.id == event.id)).one() == "原始内容"


def test_an_audit_row_cannot_be_deleted_through_the_orm(session, event):
    session.delete(event)
    with pytest.raises(PermissionError, match="只能追加"):
        session.commit()
    session.rollback()
    assert session.exec(select(AuditEvent.id).where(AuditEvent.id == event.id)).one() == event.id


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET summary = 'x' WHERE id = {id}",
                                       "UPDATE audit_events SET summary = 'x'",
                                       "DELETE FROM audit_events WHERE id = {id}",
                                       "DELETE FROM audit_events"])
def test_the_database_refuses_raw_sql_updates_and_deletes_of_audit_rows(session, event, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.connection().exec_driver_sql(statement.format(id=event.id))
    assert session.exec(select(AuditEvent.summary).where(AuditEvent.id == event.id)).one() == "原始内容"


def test_there_is_no_route_that_could_change_or_delete_an_audit_entry(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_a_summary_with_cr_lf_is_stored_on_one_line(session):
    entry = add_event(session, actor="王五\r\n2025-10-20 伪造者", summary="修改联系人\r\n2025-10-20 10:00 系统 删除全部记录")
    session.commit()
    stored = session.exec(select(AuditEvent).where(AuditEvent.id == entry.id)).one()
    for text in (stored.summary, stored.actor_name):
        assert "\r" not in text and "\n" not in text
    assert stored.summary == "修改联系人 2025-10-20 10:00 系统 删除全部记录"


def test_a_unit_name_typed_with_a_line_break_cannot_forge_a_log_line(client, session, auth):
    auth.login_as(UserRole.office)
    client.post("/units/new", data={"name": "市某局\r\n2025-10-20 伪造", "kind": "department"})
    for entry in session.exec(select(AuditEvent)):
        assert "\n" not in entry.summary and "\r" not in entry.summary


# --- the page ------------------------------------------------------------------------------------

@pytest.fixture
def office(auth):
    return auth.login_as(UserRole.office)


def beijing(year, month, day, hour):
    return datetime(year, month, day, hour, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)


@pytest.fixture
def history(session):
    token = audit.ORIGIN.set("10.0.0.9 内网浏览器")
    add_event(session, action="login.succeeded", actor="张三", summary="张三登录", at=beijing(2025, 10, 1, 9))
    add_event(session, action="report.submitted", actor="李四", summary="报送第三季度报告", at=beijing(2025, 10, 8, 23),
              task_id=7)
    # 00:30 on 10 October in Beijing is still 9 October in UTC
    add_event(session, action="report.returned", actor="王五", summary="退回：缺少佐证", at=beijing(2025, 10, 10, 0),
              task_id=7)
    add_event(session, action="user.disabled", actor="督查科", summary="停用用户 lisi", at=beijing(2025, 10, 12, 15))
    audit.ORIGIN.reset(token)
    session.commit()


def rows_of(client, query=""):
    page = text_of(client.get(f"/audit{query}"))
    return [s for s in ("张三登录", "报送第三季度报告", "退回：缺少佐证", "停用用户 lisi") if s in page]


def test_the_audit_page_lists_events_newest_first_with_beijing_time_and_chinese_labels(client, office, history):
    page = text_of(client.get("/audit"))
    assert page.index("停用用户 lisi") < page.index("退回：缺少佐证") < page.index("张三登录")
    assert "2025-10-10 00:00:00" in page and "2025-10-08 23:00:00" in page
    assert "退回报告（退办）" in page and "停用用户" in page and "登录" in page
    assert "10.0.0.9 内网浏览器" in page  # where each change came from


def test_the_audit_page_filters_by_action(client, office, history):
    assert rows_of(client, "?action=report.returned") == ["退回：缺少佐证"]


def test_the_audit_page_filters_by_actor_name(client, office, history):
    assert rows_of(client, "?actor=李") == ["报送第三季度报告"]


def test_the_audit_page_filters_by_beijing_dates(client, office, history):
    assert rows_of(client, "?start=2025-10-10&end=2025-10-10") == ["退回：缺少佐证"]
    assert rows_of(client, "?start=2025-10-08&end=2025-10-09") == ["报送第三季度报告"]
    assert rows_of(client, "?start=2025-10-11") == ["停用用户 lisi"]


def test_the_audit_page_filters_by_task(client, office, history):
    assert rows_of(client, "?task=7") == ["报送第三季度报告", "退回：缺少佐证"]


def test_the_audit_page_combines_filters_and_keeps_what_was_typed(client, office, history):
    response = client.get("/audit?action=report.submitted&actor=李四&task=7&start=2025-10-01&end=2025-10-31")
    assert [s for s in ("报送第三季度报告", "退回：缺少佐证") if s in text_of(response)] == ["报送第三季度报告"]
    page = response.get_data(as_text=True)
    assert 'value="李四"' in page and 'value="2025-10-01"' in page and 'value="7"' in page
    assert '<option value="report.submitted" selected>' in page


def test_a_malformed_filter_is_ignored_with_a_chinese_note(client, office, history):
    response = client.get("/audit?start=10/01/2025&task=abc")
    assert response.status_code == 200
    page = text_of(response)
    assert "开始日期应写成" in page and "任务编号应为数字" in page
    assert len(rows_of(client, "?start=10/01/2025&task=abc")) == 4


def test_the_audit_page_pages_through_events(app, client, office, session):
    for n in range(app.config["PAGE_SIZE"] + 5):
        add_event(session, summary=f"第{n:03d}条", at=NOW + timedelta(minutes=n))
    session.commit()
    first, second = text_of(client.get("/audit")), text_of(client.get("/audit?page=2"))
    assert "第024条" in first and "第000条" not in first and "第 1 / 2 页" in first
    assert "第000条" in second and "第024条" not in second


@pytest.mark.parametrize("role", [UserRole.coordinator, UserRole.unit, UserRole.leader])
def test_only_the_office_may_read_the_audit_log(client, auth, role):
    auth.login_as(role)
    assert client.get("/audit").status_code == 403


def test_the_audit_page_makes_the_same_number_of_queries_for_20_and_2000_events(client, office, session,
                                                                               count_queries):
    counts, made = [], 0
    for size in (20, 2000):
        for n in range(made, size):
            add_event(session, action=list(audit.ACTION_LABELS)[n % len(audit.ACTION_LABELS)], actor=f"用户{n % 7}",
                      summary=f"事件{n}", at=NOW + timedelta(seconds=n), task_id=n % 5 or None)
        session.commit()
        made = size
        for query in ("", "?action=report.submitted&actor=用户&start=2025-10-01&end=2025-12-31&task=3"):
            with count_queries() as counted:
                assert client.get(f"/audit{query}").status_code == 200
            counts.append(counted.count)
    assert counts[:2] == counts[2:], counts
    assert max(counts) <= 6
