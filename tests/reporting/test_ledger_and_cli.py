"""The round's ledger (台账) as .xlsx, and `tracker round open|ledger`: interfaces other tools rely on."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal
from urllib.parse import quote

import openpyxl
from sqlmodel import select

from tracker.accounts.services import COMMAND_LINE
from tracker.reporting import ledger
from tracker.reporting.models import ReportingRound, RoundAssignment
from tracker.reporting.services import reports
from tests.conftest import NOW
from tests.reporting.conftest import assignment_id, at, build_round

HEADERS = ("序号", "任务", "牵头单位", "单位", "角色", "状态", "报送日期", "是否迟报", "工作进展", "填报数值")
INJECTION = "=cmd|' /C calc'!A0"


def report(session, world, unit, user, *, text, values=None, submit=True, now=None):
    view = reports.get_assignment(session, assignment_id(session, world.round, world.task, unit), actor=user)
    return reports.save_report(session, view, progress_text=text, values=values or {}, submit=submit, actor=user,
                               now=now or at(2025, 10, 5))


def rows_of(data) -> list[tuple]:
    sheet = openpyxl.load_workbook(data).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


def filled_world(session, world):
    # Beijing 2025-10-11 07:00 is still 2025-10-10 in UTC: the ledger must show the Beijing date, and late.
    report(session, world, world.first, world.first_user, text=INJECTION, values={world.target.id: Decimal("36")},
           now=datetime(2025, 10, 10, 23, 0, tzinfo=timezone.utc))
    report(session, world, world.lead, world.lead_user, text="-5% 的下降\x0b已核实", submit=False)
    return world


def test_the_ledger_has_chinese_headers_and_one_row_per_assignment_in_task_order(client, auth, session, world):
    filled_world(session, world)
    auth.login(world.coordinator)
    response = client.get(f"/rounds/{world.round.id}/ledger.xlsx")
    assert response.status_code == 200 and response.mimetype == ledger.XLSX_TYPE
    disposition = response.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('2025年第三季度调度台账.xlsx', safe='')}" in disposition
    assert f'filename="ledger-round-{world.round.id}.xlsx"' in disposition
    rows = rows_of(io.BytesIO(response.data))
    assert rows[0] == HEADERS and len(rows) == 4
    lead, first, second = rows[1:]
    assert lead[:6] == (1, "2、（1） 甲工程", "市甲局", "市甲局", "牵头单位", "草稿")
    assert lead[6:] == (None, "否", "'-5% 的下降已核实", None)
    assert first[:6] == (2, "2、（1） 甲工程", "市甲局", "市乙局", "责任单位", "已报送")
    assert first[6].date() == date(2025, 10, 11) and first[7] == "是" and first[9] == "绿色工厂：36 家"
    assert second == (3, "2、（1） 甲工程", "市甲局", "市丙局", "责任单位", "未开始", None, "否", None, None)


def test_a_formula_in_progress_text_arrives_in_the_ledger_as_text(client, auth, session, world):
    filled_world(session, world)
    output = io.BytesIO()
    ledger.write_ledger(session, world.round, actor=world.office, output=output, now=NOW)
    sheet = openpyxl.load_workbook(output).active
    cell = sheet.cell(row=3, column=9)
    assert cell.data_type in ("s", "inlineStr") and cell.value == "'" + INJECTION
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_text_starting_like_a_formula_is_quoted_and_characters_excel_refuses_are_dropped():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert ledger.safe_text(text) == "'" + text
    assert ledger.safe_text("绿色工厂：36 家") == "绿色工厂：36 家"
    assert ledger.safe_text("a\x00b\x1fc\x0bd") == "abcd" and ledger.safe_text(None) == ""


def test_only_the_office_and_coordinators_download_the_ledger(client, auth, session, world):
    for user in (world.first_user, world.lead_user, world.leader):
        auth.login(user)
        assert client.get(f"/rounds/{world.round.id}/ledger.xlsx").status_code == 403
    auth.login(world.office)
    assert client.get(f"/rounds/{world.round.id}/ledger.xlsx").status_code == 200
    assert client.get("/rounds/999999/ledger.xlsx").status_code == 404


def test_round_open_prints_the_new_rounds_id_on_its_last_line(runner, session, world):
    result = runner.invoke(args=["round", "open", "--plan", world.plan.slug, "--label", "2025年第四季度调度",
                                 "--period-start", "2025-10-01", "--period-end", "2025-12-31", "--due", "2026-01-10"])
    assert result.exit_code == 0, result.output
    round_id = int(result.stdout.strip().splitlines()[-1])
    opened = session.get(ReportingRound, round_id)
    assert opened.label == "2025年第四季度调度" and opened.due_date == date(2026, 1, 10)
    assert len(session.exec(select(RoundAssignment).where(RoundAssignment.round_id == round_id)).all()) == 3


def test_round_list_prints_each_round_with_its_id_plan_label_due_date_and_status(runner, world):
    result = runner.invoke(args=["round", "list"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{world.round.id}\t{world.plan.slug}\t{world.round.label}\t{world.round.due_date:%Y-%m-%d}\t进行中"]


def test_round_open_explains_each_refusal_in_chinese_on_stderr_and_exits_1(runner, session, world):
    base = ["round", "open", "--plan", world.plan.slug, "--label", "2025年第四季度调度", "--period-start",
            "2025-10-01", "--period-end", "2025-12-31", "--due", "2026-01-10"]
    cases = [
        (["--plan", "no-such-plan"], "没有标识为 no-such-plan 的计划"),
        (["--period-end", "2025-09-01"], "调度期的结束日期不能早于开始日期"),
        (["--label", world.round.label], "本计划已有名为“2025年第三季度调度”的调度"),
        (["--due", "2026/01/10"], "--due 的日期格式应为 YYYY-MM-DD"),
    ]
    for change, message in cases:
        args = list(base)
        args[args.index(change[0]) + 1] = change[1]
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and message in result.stderr and result.stdout == "", (change, result.output)
    assert len(session.exec(select(ReportingRound)).all()) == 1


def test_round_ledger_writes_the_file_and_prints_one_line(runner, session, world, tmp_path):
    filled_world(session, world)
    output = tmp_path / "台账.xlsx"
    result = runner.invoke(args=["round", "ledger", str(world.round.id), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"已导出“2025年第三季度调度”台账：3 行 → {output}"
    assert rows_of(output)[0] == HEADERS and len(rows_of(output)) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["台账.xlsx"]
    missing = runner.invoke(args=["round", "ledger", "999999", "--output", str(tmp_path / "x.xlsx")])
    assert missing.exit_code == 1 and "没有编号为 999999 的调度" in missing.stderr


def test_the_ledger_reads_the_same_number_of_queries_for_20_and_2000_tasks(
        session, count_queries, make_plan, make_unit, make_task):
    counts = []
    for size in (20, 2000):
        built = build_round(session, make_plan, make_unit, make_task, size)
        with count_queries() as counted:
            rows = ledger.write_ledger(session, built.round, actor=COMMAND_LINE, output=io.BytesIO(), now=NOW)
        assert rows == 2 * size
        counts.append(counted.count)
    assert counts[0] == counts[1] <= 4
