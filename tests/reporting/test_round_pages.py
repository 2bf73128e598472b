"""Rounds in the browser: list, open, completeness and lights, close; the settings; the task page's rounds."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.reporting.models import Light, ReportingRound, ReportingSettings, RoundStatus, TaskProgress
from tracker.reporting.services import reports, reviews, round_pages, rounds
from tests.reporting.conftest import assignment_id, at, text_of


def submit(session, world, unit, user, now, text="进展"):
    view = reports.get_assignment(session, assignment_id(session, world.round, world.task, unit), actor=user)
    return reports.save_report(session, view, progress_text=text, values={}, submit=True, actor=user, now=now)


def test_the_round_list_shows_each_round_newest_first_with_its_completeness(client, auth, session, world, clock):
    submit(session, world, world.first, world.first_user, at(2025, 10, 5))
    rounds.open_round(session, world.plan, label="2025年第四季度调度", period_start=date(2025, 10, 1),
                      period_end=date(2025, 12, 31), due_date=date(2026, 1, 10), actor=world.office,
                      now=at(2025, 10, 21))
    auth.login(world.first_user)
    page = text_of(client.get("/rounds"))
    assert page.index("2025年第四季度调度") < page.index("2025年第三季度调度")
    assert "已报 1（33%）" in page and "进行中" in page
    assert "开启新一轮调度" not in page
    auth.login(world.office)
    assert "开启新一轮调度" in text_of(client.get("/rounds"))


def test_the_office_opens_a_round_with_the_proposed_label_and_dates(client, auth, session, world, clock):
    clock.set(at(2026, 1, 5))
    auth.login(world.office)
    form = client.get("/rounds/new").get_data(as_text=True)
    assert 'value="2025年第四季度调度"' in form and 'value="2025-10-01"' in form
    assert 'value="2025-12-31"' in form and 'value="2026-01-10"' in form
    response = client.post("/rounds/new", data={"plan": world.plan.slug, "label": "2025年第四季度调度",
                                                "period_start": "2025-10-01", "period_end": "2025-12-31",
                                                "due_date": "2026-01-10"})
    opened = session.exec(select(ReportingRound).where(ReportingRound.label == "2025年第四季度调度")).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/rounds/{opened.id}")
    assert "已开启“2025年第四季度调度”" in text_of(client.get(response.headers["Location"]))


def test_a_round_opened_late_is_proposed_due_ten_days_from_today(client, auth, world, clock):
    clock.set(at(2025, 11, 25))
    auth.login(world.office)
    form = client.get("/rounds/new").get_data(as_text=True)
    assert 'value="2025年第三季度调度"' in form and 'value="2025-12-05"' in form


def test_the_open_round_form_proposes_the_configured_cadence(client, auth, session, world, clock):
    clock.set(at(2025, 7, 3))
    rounds.update_settings(session, cadence_months=6, path_tolerance_pct=10, red_after_working_days=5,
                           first_named_leads=True, actor=world.office, now=at(2025, 7, 1))
    auth.login(world.office)
    assert 'value="2025年上半年调度"' in client.get("/rounds/new").get_data(as_text=True)


def test_mistakes_in_the_open_round_form_come_back_in_chinese_keeping_what_was_typed(
        client, auth, session, world, clock):
    auth.login(world.office)
    typed = {"plan": world.plan.slug, "label": "2025年第四季度调度", "period_start": "2025-10-01",
             "period_end": "2025-12-31", "due_date": "2026-01-10"}
    bad_date = client.post("/rounds/new", data={**typed, "due_date": "2026-13-40"})
    assert bad_date.status_code == 422 and "请按“年-月-日”填写日期" in text_of(bad_date)
    assert 'value="2025年第四季度调度"' in bad_date.get_data(as_text=True)
    blank = client.post("/rounds/new", data={**typed, "label": " ", "period_start": ""})
    assert blank.status_code == 422 and "请填写调度名称" in text_of(blank) and "请填写调度期开始日期" in text_of(blank)
    backwards = client.post("/rounds/new", data={**typed, "period_end": "2025-09-01"})
    assert backwards.status_code == 422 and "结束日期不能早于开始日期" in text_of(backwards)
    unknown_plan = client.post("/rounds/new", data={**typed, "plan": "no-such-plan"})
    assert unknown_plan.status_code == 422 and "请从列表中选择计划" in text_of(unknown_plan)
    duplicate = client.post("/rounds/new", data={**typed, "label": world.round.label})
    assert duplicate.status_code == 409 and "本计划已有名为“2025年第三季度调度”的调度" in text_of(duplicate)
    assert len(session.exec(select(ReportingRound)).all()) == 1


def test_only_the_office_opens_and_closes_rounds(client, auth, session, world, clock):
    for user in (world.first_user, world.lead_user, world.coordinator, world.leader):
        auth.login(user)
        assert client.get("/rounds/new").status_code == 403
        assert client.post(f"/rounds/{world.round.id}/close").status_code == 403
        assert "关闭调度" not in text_of(client.get(f"/rounds/{world.round.id}"))
    assert world.round.status is RoundStatus.open


def test_closing_a_round_locks_its_reports(client, auth, session, world, clock):
    auth.login(world.office)
    page = client.get(f"/rounds/{world.round.id}").get_data(as_text=True)
    assert 'data-confirm="关闭后' in page
    response = client.post(f"/rounds/{world.round.id}/close")
    assert response.status_code == 302 and world.round.status is RoundStatus.closed
    assert "已关闭“2025年第三季度调度”" in text_of(client.get(response.headers["Location"]))
    again = client.post(f"/rounds/{world.round.id}/close", follow_redirects=True)
    assert "这次调度已经关闭" in text_of(again)
    auth.login(world.first_user)
    mine = assignment_id(session, world.round, world.task, world.first)
    assert 'name="progress_text"' not in client.get(f"/assignments/{mine}").get_data(as_text=True)
    refused = client.post(f"/assignments/{mine}", data={"progress_text": "晚了", "save_draft": "1"})
    assert refused.status_code == 409 and "本次调度已关闭" in text_of(refused)


def test_the_round_page_shows_completeness_per_task_and_per_unit(client, auth, session, world, clock):
    clock.set(at(2025, 10, 13))
    submit(session, world, world.first, world.first_user, at(2025, 10, 11, 10))
    auth.login(world.coordinator)
    page = text_of(client.get(f"/rounds/{world.round.id}"))
    assert "应报 3 项，已报送 1 项（33%）" in page
    assert "未开始 2 草稿 0 已报送 1 已退回 0 已采纳 0 迟报 1 逾期未报 2" in page
    assert "2、（1） 甲工程" in page and "市甲局" in page
    units = text_of(client.get(f"/rounds/{world.round.id}?view=units"))
    assert "市乙局 1 0 0 1 0 0 1 0" in units and "市丙局 1 1 0 0 0 0 0 1" in units
    assert "下载台账" in page and "关闭调度" not in page


def test_the_round_page_pages_tasks_and_units_each_once_in_order_counted_from_their_own_assignments(
        session, world, make_unit, make_task, clock):
    """The page's rows are picked first and only theirs are counted: paging one row at a time gives the same
    rows, in the same order and with the same counts, as one page holding them all. A task of the plan added
    after the round opened has no assignment in it and is on no page."""
    more = [make_task(world.plan, lead=make_unit(f"市{name}局"), responsible=[world.first], number=n,
                      title=f"{name}工程") for n, name in ((2, "丁"), (3, "戊"))]
    reopened = rounds.open_round(session, world.plan, label="2025年第四季度调度", period_start=date(2025, 10, 1),
                                 period_end=date(2025, 12, 31), due_date=date(2026, 1, 10), actor=world.office,
                                 now=at(2025, 10, 8))
    make_task(world.plan, lead=world.lead, number=4, title="后来的工程")
    submit(session, world, world.first, world.first_user, at(2025, 10, 9))

    def rows(tab, size, page):
        overview = round_pages.round_overview(session, reopened, actor=world.office, today=date(2026, 1, 12),
                                              tab=tab, page=page, size=size)
        shown = overview.tasks if tab == "tasks" else overview.units
        return [(row.id, row.name, row.counts) for row in shown], (overview.task_total, overview.unit_total)

    for tab in ("tasks", "units"):
        whole, totals = rows(tab, 50, 1)
        assert totals == (3, 5)
        one_by_one = [row for page in range(1, 7) for row in rows(tab, 1, page)[0]]
        assert one_by_one == whole and len(whole) == totals[tab == "units"]
    tasks, _ = rows("tasks", 50, 1)
    assert [name.split(" ", 1)[1] for _, name, _ in tasks] == ["甲工程", "丁工程", "戊工程"]
    assert [counts.total for _, _, counts in tasks] == [3, 2, 2] and all(c.missing == c.total for *_, c in tasks)
    units, _ = rows("units", 50, 1)
    assert {name: counts.total for _, name, counts in units}["市乙局"] == 3


def test_the_round_page_shows_each_tasks_light_with_its_reasons_and_an_override_beside_the_rules(
        client, auth, session, world, clock):
    clock.set(at(2025, 10, 20))
    auth.login(world.leader)
    page = text_of(client.get(f"/rounds/{world.round.id}"))
    assert "红灯" in page and "3 个单位逾期未报超过 5 个工作日" in page
    review = reviews.get_task_review(session, world.round.id, world.task.id, actor=world.lead_user)
    reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="90",
                               narrative="推进顺利", light_override=Light.yellow,
                               light_override_reason="各单位已口头报告，书面材料本周补齐",
                               actor=world.lead_user, now=at(2025, 10, 20))
    page = text_of(client.get(f"/rounds/{world.round.id}"))
    assert "黄灯 （调整理由：各单位已口头报告，书面材料本周补齐）" in page and "规则计算：红灯" in page


def test_units_see_links_to_what_they_may_open_from_the_round_page(client, auth, session, world, clock):
    mine = assignment_id(session, world.round, world.task, world.first)
    auth.login(world.first_user)
    page = client.get(f"/rounds/{world.round.id}").get_data(as_text=True)
    assert f'href="/assignments/{mine}"' in page and f"/tasks/{world.task.id}\"" not in page.split("<tbody>")[0]
    assert f"/rounds/{world.round.id}/tasks/{world.task.id}" not in page and "下载台账" not in page
    auth.login(world.lead_user)
    assert f"/rounds/{world.round.id}/tasks/{world.task.id}" in client.get(f"/rounds/{world.round.id}").get_data(
        as_text=True)


def test_the_office_changes_the_settings_and_others_may_not(client, auth, session, world, clock):
    auth.login(world.office)
    page = client.get("/settings").get_data(as_text=True)
    assert '<option selected value="3">' in page or 'value="3" selected' in page
    assert "调度设置" in text_of(client.get("/todo"))
    saved = client.post("/settings", data={"cadence_months": "1", "path_tolerance_pct": "15",
                                           "red_after_working_days": "10"})
    assert saved.status_code == 302
    settings = session.exec(select(ReportingSettings)).one()
    assert (settings.cadence_months, settings.path_tolerance_pct, settings.red_after_working_days,
            settings.first_named_leads) == (1, 15, 10, False)
    for data, message in (({"cadence_months": "5"}, "请从列表中选择调度周期"),
                          ({"path_tolerance_pct": "十"}, "请填写整数"),
                          ({"path_tolerance_pct": ""}, "请填写容许落后的百分点"),
                          ({"path_tolerance_pct": "101"}, "容许落后的百分点应在 0 到 100 之间"),
                          ({"red_after_working_days": "0"}, "红灯的逾期工作日数应在 1 到 60 之间")):
        response = client.post("/settings", data={"cadence_months": "3", "path_tolerance_pct": "10",
                                                  "red_after_working_days": "5", **data})
        assert response.status_code == 422 and message in text_of(response), data
    assert session.exec(select(ReportingSettings)).one().path_tolerance_pct == 15
    for user in (world.first_user, world.coordinator, world.leader):
        auth.login(user)
        assert client.get("/settings").status_code == 403
        assert client.post("/settings", data={"cadence_months": "12", "path_tolerance_pct": "0",
                                              "red_after_working_days": "1"}).status_code == 403
        assert "调度设置" not in text_of(client.get("/todo"))
    assert session.exec(select(ReportingSettings)).one().cadence_months == 1


def test_the_task_page_shows_the_light_links_and_history_to_those_who_may_see_them(
        client, auth, session, world, clock, make_user, make_unit):
    submit(session, world, world.first, world.first_user, at(2025, 10, 5), text="第一份报告")
    mine = assignment_id(session, world.round, world.task, world.first)
    lead_own = assignment_id(session, world.round, world.task, world.lead)
    review_link = f"/rounds/{world.round.id}/tasks/{world.task.id}"

    auth.login(world.lead_user)
    page = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert "2025年第三季度调度" in page and review_link in page and f"/assignments/{lead_own}" in page
    assert "绿灯" in text_of(client.get(f"/tasks/{world.task.id}"))
    history = text_of(client.get(f"/tasks/{world.task.id}")).split("任务动态", 1)[1]
    assert "2025-10-05 09:00" in history and world.first_user.display_name in history and "报送报告" in history

    auth.login(world.first_user)
    page = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert f"/assignments/{mine}" in page and review_link not in page and "报送报告" not in page

    auth.login(make_user(UserRole.unit, unit=make_unit("市无关局")))
    page = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert "/assignments/" not in page and review_link not in page and "报送报告" not in page

    auth.login(world.coordinator)
    page = client.get(f"/tasks/{world.task.id}").get_data(as_text=True)
    assert review_link in page and "报送报告" in page and "/assignments/" not in page
