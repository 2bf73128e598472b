"""Task evaluation: on-time reporting in the period's rounds, targets met, the consolidated status, weights."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from tracker.accounts.services import COMMAND_LINE
from tracker.evaluations.services import lifecycle, results
from tracker.reporting.models import (ReportedValue, ReportStatus, ReviewStatus, RoundAssignment, TaskProgress,
                                      TaskReport, UnitReport)
from tracker.reporting.services import rounds
from tracker.tasks.models import Comparator, Target
from tests.conftest import NOW
from tests.reporting.conftest import at


class TaskWorld:
    pass


@pytest.fixture
def tw(session, make_plan, make_unit, make_task, make_section):
    w = TaskWorld()
    w.plan = make_plan("tasks-plan")
    section = make_section(w.plan, 2)
    w.lead, w.first, w.second = make_unit("市甲局"), make_unit("市乙局"), make_unit("市丙局")
    w.task = make_task(w.plan, lead=w.lead, responsible=[w.first, w.second], section=section, number=1,
                       title="绿色制造工程")
    w.quiet = make_task(w.plan, lead=w.first, section=section, number=2, title="没有目标的任务")
    w.due = Target(plan_id=w.plan.id, task_id=w.task.id, position=0, measure="绿色工厂", comparator=Comparator.at_least,
                   value=Decimal(35), unit="家", deadline_year=2023, text="到2023年创建绿色工厂35家", line=1)
    w.later = Target(plan_id=w.plan.id, task_id=w.task.id, position=1, measure="绿色园区", comparator=Comparator.at_least,
                     value=Decimal(10), unit="个", deadline_year=2025, text="到2025年创建绿色园区10个", line=1)
    session.add_all([w.due, w.later])
    session.flush()

    def open_round(label, start, end, due):
        return rounds.open_round(session, w.plan, label=label, period_start=start, period_end=end, due_date=due,
                                 actor=COMMAND_LINE, now=NOW)

    w.q3 = open_round("2023年第三季度调度", date(2023, 7, 1), date(2023, 9, 30), date(2023, 10, 10))
    w.q4 = open_round("2023年第四季度调度", date(2023, 10, 1), date(2023, 12, 31), date(2024, 1, 10))
    w.next_year = open_round("2024年第一季度调度", date(2024, 1, 1), date(2024, 3, 31), date(2024, 4, 10))
    return w


def report(session, reporting_round, task, unit, *, late=False, submitted=True, accepted=False, values=None):
    assignment = session.exec(select(RoundAssignment).where(
        RoundAssignment.round_id == reporting_round.id, RoundAssignment.task_id == task.id,
        RoundAssignment.unit_id == unit.id)).one()
    row = UnitReport(assignment_id=assignment.id, round_id=reporting_round.id, task_id=task.id, unit_id=unit.id,
                     status=ReportStatus.accepted if accepted else (ReportStatus.submitted if submitted else
                                                                    ReportStatus.draft),
                     submitted_dt=at(2023, 10, 1) if submitted else None, is_late=late, updated_dt=NOW)
    session.add(row)
    session.flush()
    for target, value in values or []:
        session.add(ReportedValue(report_id=row.id, target_id=target.id, value=Decimal(value)))
    session.flush()


def consolidate(session, reporting_round, task, unit, progress, review=ReviewStatus.accepted):
    session.add(TaskReport(round_id=reporting_round.id, task_id=task.id, unit_id=unit.id, progress=progress,
                           progress_pct=Decimal(50), narrative="汇总", submitted_dt=NOW, review_status=review))
    session.flush()


def task_results(session, plan, kind="annual", year=2023):
    evaluation = lifecycle.run_evaluation(session, plan, kind=kind, year=year, actor=COMMAND_LINE, now=NOW)
    return {t["title"]: t for t in results.evaluation_report(session, evaluation)["tasks"]}, evaluation


def test_a_task_is_scored_from_on_time_reporting_targets_met_and_its_latest_status(session, tw):
    # Q3: lead and 乙 on time, 丙 late. Q4: lead on time, 乙 never submits, 丙 on time → 4 of 6 on time.
    report(session, tw.q3, tw.task, tw.lead, accepted=True, values=[(tw.due, 36)])
    report(session, tw.q3, tw.task, tw.first)
    report(session, tw.q3, tw.task, tw.second, late=True)
    report(session, tw.q4, tw.task, tw.lead)
    report(session, tw.q4, tw.task, tw.first, submitted=False)
    report(session, tw.q4, tw.task, tw.second)
    consolidate(session, tw.q3, tw.task, tw.lead, TaskProgress.lagging)
    consolidate(session, tw.q4, tw.task, tw.lead, TaskProgress.in_progress)
    consolidate(session, tw.next_year, tw.task, tw.lead, TaskProgress.completed)  # 2024: outside an annual 2023
    found, _ = task_results(session, tw.plan)
    task = found["绿色制造工程"]
    # on time 4 ÷ 6 = 0.666667 → 66.67; targets due by 2023: 绿色工厂 ≥ 35, accepted 36 → 1 ÷ 1 → 100;
    # status 推进中 (Q4, the latest in 2023) → 80.  Score = 0.4 × 66.67 + 0.4 × 100 + 0.2 × 80 = 82.67 → 良好
    assert (task["on_time_rate"], task["targets_met_rate"], task["status_score"]) == ("0.666667", "1.000000", "80")
    assert (task["score"], task["grade"]) == ("82.67", "良好")
    assert task["lead_unit"] == "市甲局" and task["display_number"] == "2、（1）"
    texts = " ".join(step["text"] for step in task["explanation"])
    assert "应报 6 份，按时报送 4 份" in texts and "推进中" in texts and "2023年第四季度调度" in texts
    assert "绿色工厂 不低于 35家（2023年）：最新采纳值 36家，达到" in task["explanation"][1]["lines"][0]


def test_a_task_with_no_target_due_leaves_that_part_out_and_renormalises_the_weights(session, tw):
    report(session, tw.q3, tw.quiet, tw.first)
    report(session, tw.q4, tw.quiet, tw.first, late=True)
    consolidate(session, tw.q4, tw.quiet, tw.first, TaskProgress.completed)
    found, _ = task_results(session, tw.plan)
    quiet = found["没有目标的任务"]
    # on time 1 ÷ 2 → 50; status 已完成 → 100; targets left out: (0.4 × 50 + 0.2 × 100) ÷ 0.6 = 66.67 → 合格
    assert quiet["targets_met_rate"] is None and (quiet["score"], quiet["grade"]) == ("66.67", "合格")
    score_text = quiet["explanation"][-1]["text"]
    assert "目标达成率不计入" in score_text and "按比例放大" in score_text and "÷ 0.6" in score_text


def test_an_unmet_target_and_a_returned_status_count_against_the_task(session, tw):
    report(session, tw.q4, tw.task, tw.lead, accepted=True, values=[(tw.due, 30)])
    report(session, tw.q4, tw.task, tw.first, values=[(tw.due, 40)])  # not accepted: does not count
    consolidate(session, tw.q4, tw.task, tw.lead, TaskProgress.completed, review=ReviewStatus.returned)
    found, _ = task_results(session, tw.plan)
    task = found["绿色制造工程"]
    assert task["targets_met_rate"] == "0.000000" and task["status_score"] == "0"
    assert "没有报送汇总情况" in task["explanation"][2]["text"]


def test_midterm_and_final_take_every_round_up_to_the_end_of_their_year(session, tw):
    report(session, tw.next_year, tw.task, tw.lead, accepted=True, values=[(tw.due, 36), (tw.later, 12)])
    consolidate(session, tw.next_year, tw.task, tw.lead, TaskProgress.completed)
    annual_2023, _ = task_results(session, tw.plan)
    assert annual_2023["绿色制造工程"]["status_score"] == "0"        # 2024's status is outside 2023
    final, _ = task_results(session, tw.plan, kind="final", year=2025)
    task = final["绿色制造工程"]
    # 9 assignments over three rounds, 1 on time; both targets due by 2025 and met; 已完成
    assert (task["on_time_rate"], task["targets_met_rate"], task["status_score"]) == ("0.111111", "1.000000", "100")


def test_a_task_with_no_round_and_no_target_due_is_not_evaluated(session, make_plan, make_unit, make_task):
    plan = make_plan()
    make_task(plan, lead=make_unit(), title="尚无调度的任务")
    found, evaluation = task_results(session, plan)
    assert (found["尚无调度的任务"]["grade"], found["尚无调度的任务"]["score"]) == ("未评价", "0")
    summary = results.evaluation_report(session, evaluation)["lead_units"]
    assert summary[0]["task_count"] == 1 and summary[0]["evaluated_count"] == 0 and summary[0]["average_score"] is None


def test_the_lead_unit_summary_counts_tasks_and_averages_their_scores(session, tw):
    for task, unit in ((tw.task, tw.lead), (tw.task, tw.first), (tw.task, tw.second), (tw.quiet, tw.first)):
        report(session, tw.q3, task, unit)
        report(session, tw.q4, task, unit)
    consolidate(session, tw.q4, tw.task, tw.lead, TaskProgress.completed)
    consolidate(session, tw.q4, tw.quiet, tw.first, TaskProgress.in_progress)
    _, evaluation = task_results(session, tw.plan)
    summary = {e["name"]: e for e in results.evaluation_report(session, evaluation)["lead_units"]}
    # 绿色制造工程: on time 1.0 → 100, targets 0 of 1 (nothing accepted) → 0, 已完成 100 → 60.00
    # 没有目标的任务: on time 100, 推进中 80 → (40 + 16) ÷ 0.6 = 93.33
    assert summary["市甲局"]["average_score"] == "60.00" and summary["市甲局"]["task_count"] == 1
    assert summary["市乙局"]["average_score"] == "93.33"
