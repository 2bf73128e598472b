"""The plan pages: what they show, how they filter and page, and a query count that does not grow."""
from __future__ import annotations

import html
import io
import re

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tracker.agencies.models import Unit
from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.tasks import importer, services
from tracker.tasks.models import Comparator, Role, Target, Task, TaskAssignment, TaskGroup, TaskLevel
from tests.conftest import GENRE, HOHHOT, NOW
from tests.tasks.test_importer import DIRECTORY


@pytest.fixture(autouse=True)
def office(auth):
    return auth.login_as(UserRole.office)


@pytest.fixture
def hohhot(session):
    importer.import_plan(session, HOHHOT.read_bytes(), filename="hohhot.txt", slug="hohhot",
                         directory=DIRECTORY, actor=COMMAND_LINE, now=NOW)
    return "hohhot"


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_the_overview_shows_sections_task_counts_and_the_headline_target(client, hohhot):
    page = text_of(client.get("/plans/hohhot"))
    assert "呼和浩特市“十四五”节能减排综合工作实施方案" in page
    assert "二、实施节能减排重点工程 10" in page
    assert "单位GDP能耗比2020年下降" in page and "12" in page


def test_the_task_list_filters_by_lead_unit_and_pages(client, session, hohhot):
    lead = session.exec(select(Unit).where(Unit.name == "市生态环境局")).one()
    page = text_of(client.get(f"/plans/hohhot/tasks?lead={lead.id}"))
    assert "共 6 项任务" in page  # 二(七)(九), 三(二)(五)(七), 四(一)
    assert "重点区域污染物减排工程" in page and "重点行业绿色升级工程" not in page
    first = text_of(client.get("/plans/hohhot/tasks"))
    assert "共 21 项任务" in first and "第 1 / 2 页" in first
    second = text_of(client.get("/plans/hohhot/tasks?page=2"))
    assert "营造良好氛围" in second and "重点行业绿色升级工程" not in second


def test_with_a_directory_too_large_to_list_the_filters_take_a_typed_unit_name(client, session, hohhot,
                                                                                monkeypatch):
    monkeypatch.setattr(services, "UNIT_CHOICES", 10)
    page = client.get("/plans/hohhot/tasks?lead_name=市生态环境局").get_data(as_text=True)
    assert 'name="lead_name"' in page and 'value="市生态环境局"' in page and 'name="lead"' not in page
    assert "共 6 项任务" in text_of(client.get("/plans/hohhot/tasks?lead_name=市生态环境局"))
    assert "共 21 项任务" in text_of(client.get("/plans/hohhot/tasks?unit_name=武川县"))
    unknown = text_of(client.get("/plans/hohhot/tasks?lead_name=市不存在局"))
    assert "单位目录中没有名为“市不存在局”的单位" in unknown and "共 0 项任务" in unknown


def test_filtering_by_any_unit_finds_tasks_it_carries_through_a_group(client, session, hohhot):
    county = session.exec(select(Unit).where(Unit.name == "武川县")).one()
    assert "共 21 项任务" in text_of(client.get(f"/plans/hohhot/tasks?unit={county.id}"))


def test_a_task_page_shows_its_repaired_text_units_groups_and_targets(client, session, hohhot):
    task = session.exec(select(Task).where(Task.key == "2.1")).one()
    page = text_of(client.get(f"/tasks/{task.id}"))
    assert "市工业和信息化局" in page and "市发展改革委" in page
    assert "市市场监管局" in page
    assert "各旗县区、经济技术开发区、和林格尔新区" in page and "和林格尔新区" in page
    assert "创建绿色工厂 不低于（>=） 35 家 2025年" in page
    assert "**" not in page and "信息 化局" not in page


def test_a_unit_page_lists_the_tasks_it_leads_and_shares(client, session, hohhot):
    unit = session.exec(select(Unit).where(Unit.name == "市统计局")).one()
    page = text_of(client.get(f"/units/{unit.id}"))
    assert "牵头的任务（1）" in page and "加强统计监测能力建设" in page
    assert "优化完善能耗双控制度" in page


def test_the_annex_page_shows_values_as_written_and_every_flag(client, hohhot):
    page = text_of(client.get("/plans/hohhot/annexes"))
    assert "托克托县 13 14.0" in page
    assert "556.39亿千瓦时" in page and "未注明计量单位" in page


def test_uploading_a_plan_shows_a_preview_and_confirming_imports_it(client, session):
    response = client.post("/import", data={"document": (io.BytesIO(HOHHOT.read_bytes()), "hohhot.txt"),
                                            "slug": "hohhot"}, content_type="multipart/form-data")
    assert response.status_code == 200
    preview = text_of(response)
    assert "读出的任务（21 项）" in preview and "重点行业绿色升级工程" in preview
    assert session.exec(select(Task)).first() is None
    token = re.search(r'name="upload" type="hidden" value="([0-9a-f]{64})"', response.get_data(as_text=True)).group(1)
    confirmed = client.post("/import/confirm", data={"upload": token, "slug": "hohhot", "filename": "hohhot.txt"})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/plans/hohhot")
    assert len(session.exec(select(Task)).all()) == 21


def test_uploading_a_file_that_is_not_a_plan_shows_the_wrong_line_and_keeps_the_slug(client, session):
    response = client.post("/import", data={"document": (io.BytesIO("通知\n\n请各单位按时报送。\n".encode()), "x.txt"),
                                            "slug": "my-plan"}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第 1 行" in page or "第 3 行" in page
    assert 'value="my-plan"' in page
    assert session.exec(select(Task)).first() is None


def test_uploading_a_file_of_another_type_is_refused_in_chinese(client):
    response = client.post("/import", data={"document": (io.BytesIO(b"%PDF-1.4"), "plan.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "只接受 .txt" in response.get_data(as_text=True)


def test_an_unknown_page_answers_404_in_chinese_without_a_stack_trace(client):
    response = client.get("/plans/no-such-plan")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)


def test_every_response_carries_the_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_load_nothing_from_another_host(client, hohhot, session):
    task_id = session.exec(select(Task.id)).first()
    for path in ("/", "/plans/hohhot/tasks", f"/tasks/{task_id}", "/units", "/plans/hohhot/annexes", "/import"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), path


# --- query budgets -------------------------------------------------------------------------------

def build_plan(make_plan, make_unit, make_section, make_group, session, tasks: int):
    """A plan of `tasks` tasks, each with a lead, two responsible units, a group and a target, bulk-inserted."""
    plan = make_plan()
    units = [make_unit() for _ in range(12)]
    group = make_group(f"各测试单位组{plan.id}", units[6:12])
    sections = [make_section(plan, number) for number in (1, 2, 3)]
    rows = [dict(plan_id=plan.id, section_id=sections[n % 3].id, key=f"{sections[n % 3].number}.{n + 1}",
                 level=TaskLevel.clause, section_number=sections[n % 3].number, number=n + 1, label=f"（{n + 1}）",
                 title=f"测试任务{n + 1}", text=f"测试任务{n + 1}的条款文字。", line=n + 1, position=n + 1)
            for n in range(tasks)]
    ids = session.execute(sa.insert(Task).returning(Task.id, sort_by_parameter_order=True), rows).scalars().all()
    session.execute(sa.insert(TaskAssignment), [
        dict(task_id=task_id, unit_id=units[(n + k) % 6].id, role=Role.lead if k == 0 else Role.responsible,
             position=k) for n, task_id in enumerate(ids) for k in range(3)])
    session.execute(sa.insert(TaskGroup), [dict(task_id=task_id, group_id=group.id, role=Role.responsible, position=0)
                                           for task_id in ids])
    session.execute(sa.insert(Target), [
        dict(plan_id=plan.id, task_id=task_id, position=0, measure="完成率", line=1, comparator=Comparator.at_least,
             value=90, unit="%", deadline_year=2025, text="完成率达到90%") for task_id in ids])
    session.flush()
    return plan, ids, units


@pytest.mark.parametrize("page", ["overview", "task_list", "task_list_filtered", "task_detail", "unit_detail",
                                  "unit_list", "annexes"])
def test_each_page_makes_the_same_number_of_queries_for_20_and_2000_tasks(
        page, client, session, count_queries, make_plan, make_unit, make_section, make_group):
    counts = []
    for size in (20, 2000):
        plan, tasks, units = build_plan(make_plan, make_unit, make_section, make_group, session, size)
        path = {"overview": f"/plans/{plan.slug}", "task_list": f"/plans/{plan.slug}/tasks",
                "task_list_filtered": f"/plans/{plan.slug}/tasks?lead={units[0].id}&q=测试",
                "task_detail": f"/tasks/{tasks[-1]}", "unit_detail": f"/units/{units[0].id}",
                "unit_list": "/units", "annexes": f"/plans/{plan.slug}/annexes"}[page]
        with count_queries() as counted:
            assert client.get(path).status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1], f"{page}: {counts}"
    assert counts[0] <= 16
