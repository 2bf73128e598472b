"""A city plan of a dozen tasks with a round past its due date: on-time, late and missing units, consolidated
reports, indicators with import flags, and an evaluation with area results. Fixed names and dates throughout."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies.models import Unit, UnitKind
from tracker.briefings.models import Briefing
from tracker.briefings.services import drafts, publishing
from tracker.evaluations.models import AreaResult, Evaluation, EvaluationKind, EvaluationStatus
from tracker.reporting.models import (IndicatorValue, ReportingRound, ReportStatus, RoundAssignment, TaskProgress,
                                      TaskReport, UnitReport)
from tracker.reporting.services import rounds
from tracker.tasks.models import Indicator, Plan, Role, Section, Task, TaskAssignment, TaskLevel
from tests.conftest import ROOT

#: 2025-10-20 09:00 in Beijing: ten days after the round's due date
PUBLISHED_AT = datetime(2025, 10, 20, 1, 0, tzinfo=timezone.utc)
ISSUE_DATE = date(2025, 10, 20)
STATIC = ROOT / "static"

SECTIONS = [(2, "二、", "实施节能减排重点工程"), (3, "三、", "健全节能减排政策机制"), (4, "四、", "组织实施")]
#: (section number, clause label, title, lead unit)
TASKS = [
    (2, "（一）", "重点行业绿色升级工程", "市工业和信息化局"),
    (2, "（二）", "园区节能环保提升工程", "市发展改革委"),
    (2, "（三）", "城镇绿色节能改造工程", "市住房和城乡建设局"),
    (2, "（四）", "交通物流节能减排工程", "市交通运输局"),
    (2, "（五）", "农业农村节能减排工程", "市农牧局"),
    (2, "（六）", "公共机构能效提升工程", "市机关事务服务中心"),
    (2, "（七）", "重点区域污染物减排工程", "市生态环境局"),
    (3, "（一）", "优化完善能耗双控制度", "市发展改革委"),
    (3, "（二）", "健全污染物排放总量控制制度", "市生态环境局"),
    (3, "（三）", "强化节能减排经济政策", "市财政局"),
    (4, "（一）", "加强组织领导", "市发展改革委"),
    (4, "（二）", "强化监督考核", "市统计局"),
]
ON_TIME_AREA, LATE_AREA, MISSING_AREA = "新城区", "回民区", "武川县"
AREAS = (ON_TIME_AREA, LATE_AREA, MISSING_AREA)


@dataclass
class City:
    plan: Plan
    round: ReportingRound
    tasks: list[Task]
    units: dict[str, Unit]
    evaluation: Evaluation
    office: object
    unit_user: object
    leader: object
    coordinator: object
    titles: list[str] = field(default_factory=list)


def build_city(session, make_user, *, task_count: int = len(TASKS), slug: str = "city") -> City:
    """The plan, a round due 2025-10-10, and reports as of 2025-10-20 (see the module docstring)."""
    plan = Plan(slug=slug, title="某市“十四五”节能减排综合工作实施方案", source_sha256="0" * 64,
                imported_dt=PUBLISHED_AT, updated_dt=PUBLISHED_AT, start_year=2021, end_year=2025)
    session.add(plan)
    session.flush()
    sections = {}
    for number, label, title in SECTIONS:
        sections[number] = Section(plan_id=plan.id, number=number, label=label, title=title, line=number)
        session.add(sections[number])
    names = sorted({lead for *_, lead in TASKS})
    units = {name: _unit(session, name, UnitKind.department) for name in names}
    units.update({name: _unit(session, name, UnitKind.area) for name in AREAS})
    session.flush()
    tasks = []
    for position in range(task_count):
        number, label, title, lead = TASKS[position % len(TASKS)]
        if position >= len(TASKS):
            title = f"{title}（{position // len(TASKS) + 1}）"
        task = Task(plan_id=plan.id, section_id=sections[number].id, key=f"{number}.{position}",
                    level=TaskLevel.clause, section_number=number, number=position + 1, label=label, title=title,
                    text=f"{title}的条款文字。", line=position + 1, position=position)
        tasks.append(task)
    session.add_all(tasks)
    session.flush()
    rows = []
    for task, (_, _, _, lead) in zip(tasks, [TASKS[i % len(TASKS)] for i in range(task_count)]):
        rows.append(dict(task_id=task.id, unit_id=units[lead].id, role=Role.lead, position=0,
                         is_carried_forward=False))
        rows += [dict(task_id=task.id, unit_id=units[area].id, role=Role.responsible, position=index + 1,
                      is_carried_forward=True) for index, area in enumerate(AREAS)]
    session.execute(sa.insert(TaskAssignment), rows)
    reporting_round = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                                        period_end=date(2025, 9, 30), due_date=date(2025, 10, 10),
                                        actor=COMMAND_LINE, now=PUBLISHED_AT)
    _reports(session, reporting_round, units, tasks)
    evaluation = _evaluation(session, plan, units)
    _indicators(session, plan)
    session.commit()
    city = City(plan=plan, round=reporting_round, tasks=tasks, units=units, evaluation=evaluation,
                office=make_user(UserRole.office), unit_user=make_user(UserRole.unit, unit=units[LATE_AREA]),
                leader=make_user(UserRole.leader), coordinator=make_user(UserRole.coordinator),
                titles=[t.title for t in tasks])
    session.commit()
    return city


def _unit(session, name: str, kind: UnitKind) -> Unit:
    existing = session.exec(select(Unit).where(Unit.name == name)).first()
    if existing is not None:
        return existing
    unit = Unit(name=name, kind=kind, created_dt=PUBLISHED_AT)
    session.add(unit)
    return unit


def _reports(session, reporting_round: ReportingRound, units: dict[str, Unit], tasks: list[Task]) -> None:
    """Everyone on time except: 武川县 owes every fourth task (from the first), 回民区 reported every fourth task
    (from the second) late; leads consolidate two tasks in three."""
    on_time, late = datetime(2025, 10, 9, 2, tzinfo=timezone.utc), datetime(2025, 10, 13, 2, tzinfo=timezone.utc)
    rows = session.exec(select(RoundAssignment.id, RoundAssignment.task_id, RoundAssignment.unit_id,
                               RoundAssignment.role).where(RoundAssignment.round_id == reporting_round.id)).all()
    names = {unit.id: name for name, unit in units.items()}
    places = {task.id: index for index, task in enumerate(tasks)}
    reports = []
    for assignment_id, task_id, unit_id, role in rows:
        name, place = names[unit_id], places[task_id]
        if name == MISSING_AREA and place % 4 == 0:
            continue
        is_late = name == LATE_AREA and place % 4 == 1
        moment = late if is_late else on_time
        status = ReportStatus.accepted if role is Role.lead else ReportStatus.submitted
        reports.append(dict(assignment_id=assignment_id, round_id=reporting_round.id, task_id=task_id,
                            unit_id=unit_id, status=status,
                            progress_text="按计划推进。", submitted_dt=moment, is_late=is_late, updated_dt=moment))
    session.execute(sa.insert(UnitReport), reports)
    consolidated = []
    leads = {task_id: unit_id for _, task_id, unit_id, role in rows if role is Role.lead}
    for index, task in enumerate(tasks):
        if index % 3 == 2:
            continue
        lead = leads[task.id]
        consolidated.append(TaskReport(
            round_id=reporting_round.id, task_id=task.id, unit_id=lead,
            progress=TaskProgress.lagging if index == 1 else TaskProgress.in_progress,
            progress_pct=Decimal("40") if index == 1 else Decimal("85"),
            narrative=f"{task.title}：已完成年度重点项目{index + 3}个，累计完成投资{index + 1}.5亿元，"
                      "正在推进剩余项目的前期手续和资金落实，预计年底前全面完成本年度目标任务。",
            submitted_dt=on_time))
    session.add_all(consolidated)
    session.flush()


def _evaluation(session, plan: Plan, units: dict[str, Unit]) -> Evaluation:
    evaluation = Evaluation(plan_id=plan.id, kind=EvaluationKind.annual, year=2024, status=EvaluationStatus.computed,
                            created_dt=PUBLISHED_AT, computed_dt=PUBLISHED_AT)
    session.add(evaluation)
    session.flush()
    figures = [  # area, basic %, incentive %, reduction, required, total, grade, rank, vetoed
        (ON_TIME_AREA, "13", "14", "0.0912", "0.0800", "96", "超额完成", 1, False),
        (LATE_AREA, "13", "14", "0.0850", "0.0800", "88", "完成", 2, False),
        (MISSING_AREA, "12", "13", "0.0500", "0.0740", "61", "未完成", 3, True),
    ]
    session.add_all([
        AreaResult(evaluation_id=evaluation.id, unit_id=units[area].id, position=index,
                   basic_target_pct=Decimal(basic), incentive_target_pct=Decimal(incentive),
                   cumulative_reduction=Decimal(reached), required_reduction=Decimal(required), total=Decimal(total),
                   grade=grade, rank=rank, is_vetoed=vetoed)
        for index, (area, basic, incentive, reached, required, total, grade, rank, vetoed) in enumerate(figures)])
    session.flush()
    return evaluation


def _indicators(session, plan: Plan) -> None:
    rows = [
        ("工业", "单位工业增加值能耗", "吨标准煤/万元", "1.20", "1.00", [], {2023: "1.12", 2024: "1.08"}),
        ("建筑", "城镇新建建筑中绿色建筑占比", "%", "60", "100", [], {2024: "88"}),
        ("电力", "火电供电煤耗", "克标准煤/千瓦时", "556.39", "300", ["基期值“556.39亿千瓦时”的单位与本栏单位不符"], {}),
    ]
    for position, (sector, name, unit, baseline, target, flags, values) in enumerate(rows):
        indicator = Indicator(plan_id=plan.id, position=position, sector=sector, name=name, unit=unit,
                              baseline_year=2020, baseline_value=Decimal(baseline), target_year=2025,
                              target_value=Decimal(target), raw_cells=[], flags=flags, line=position + 1)
        session.add(indicator)
        session.flush()
        session.add_all([IndicatorValue(indicator_id=indicator.id, year=year, value=Decimal(value),
                                        updated_dt=PUBLISHED_AT) for year, value in values.items()])
    session.flush()


@pytest.fixture
def city(session, make_user) -> City:
    return build_city(session, make_user)


@pytest.fixture
def press(tmp_path) -> publishing.Press:
    return publishing.Press(storage_dir=tmp_path / "storage", static_folder=STATIC, issuer="某市人民政府办公室")


def new_briefing(session, city: City, *, issue_date: date = ISSUE_DATE, evaluation: bool = True, **texts) -> Briefing:
    draft = drafts.Draft(round_id=city.round.id, evaluation_id=city.evaluation.id if evaluation else None,
                         title="关于2025年第三季度重点任务推进情况的通报", issue_date=issue_date, **texts)
    return drafts.create_briefing(session, draft, actor=city.office, now=PUBLISHED_AT)


#: the smallest PDF the archive accepts, for tests about numbering rather than layout
TINY_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
            b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
            b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\n"
            b"trailer <</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture
def fake_renderer(monkeypatch):
    """Replace WeasyPrint with TINY_PDF; the HTML each call was given is kept in the returned list."""
    given: list[str] = []

    def render(html, **options):
        given.append(html)
        return TINY_PDF

    monkeypatch.setattr(RENDER_PDF, render)
    return given


#: where publishing calls WeasyPrint; tests replace it here
RENDER_PDF = "tracker.briefings.services.publishing.pdf.render_pdf"


def break_renderer(monkeypatch, error: BaseException) -> None:
    """Make every render raise `error`."""
    def broken(html, **options):
        raise error

    monkeypatch.setattr(RENDER_PDF, broken)


def poppler(tool: str, *args) -> str:
    """Run a poppler-utils tool (pdfinfo, pdffonts, pdftotext) and return what it prints."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return subprocess.run([tool, *map(str, args)], check=True, capture_output=True, text=True, timeout=60).stdout


def storage_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- the Hohhot plan, as the largest realistic briefing ------------------------------------------------

def build_hohhot(session, *, narrative_chars: int = 160) -> tuple[ReportingRound, Evaluation]:
    """The real Hohhot plan imported, a round with one report in ten missing and one in ten late, every task
    consolidated, a computed evaluation of every 附件 1 area and two years of indicator values."""
    from tracker.agencies.services import read_directory
    from tracker.tasks import importer
    from tracker.tasks.models import AreaTarget
    from tests.conftest import HOHHOT

    importer.import_plan(session, HOHHOT.read_bytes(), filename=HOHHOT.name, slug="hohhot",
                         directory=read_directory(ROOT / "seed" / "hohhot-units.json"), actor=COMMAND_LINE,
                         now=PUBLISHED_AT)
    plan = session.exec(select(Plan).where(Plan.slug == "hohhot")).one()
    reporting_round = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                                        period_end=date(2025, 9, 30), due_date=date(2025, 10, 10),
                                        actor=COMMAND_LINE, now=PUBLISHED_AT)
    on_time, late = datetime(2025, 10, 9, 2, tzinfo=timezone.utc), datetime(2025, 10, 13, 2, tzinfo=timezone.utc)
    rows = session.exec(select(RoundAssignment.id, RoundAssignment.task_id, RoundAssignment.unit_id,
                               RoundAssignment.role).where(RoundAssignment.round_id == reporting_round.id)
                        .order_by(RoundAssignment.id)).all()
    reports = []
    for index, (assignment_id, task_id, unit_id, role) in enumerate(rows):
        if index % 10 == 3 and role is not Role.lead:
            continue
        is_late = index % 10 == 7
        reports.append(dict(assignment_id=assignment_id, round_id=reporting_round.id, task_id=task_id,
                            unit_id=unit_id, status=ReportStatus.submitted, progress_text="按计划推进。",
                            submitted_dt=late if is_late else on_time, is_late=is_late,
                            updated_dt=late if is_late else on_time))
    session.execute(sa.insert(UnitReport), reports)
    leads = {task_id: unit_id for _, task_id, unit_id, role in rows if role is Role.lead}
    sentence = "本季度牵头单位会同各责任单位召开专题推进会，逐项梳理年度重点项目，已完成的项目正在组织验收，其余项目的前期手续和资金正在落实，"
    for position, task_id in enumerate(sorted(leads)):
        session.add(TaskReport(round_id=reporting_round.id, task_id=task_id, unit_id=leads[task_id],
                               progress=TaskProgress.lagging if position % 7 == 3 else TaskProgress.in_progress,
                               progress_pct=Decimal(60 + position % 4 * 10),
                               narrative=(sentence * 4)[:narrative_chars] + "。", submitted_dt=on_time))
    evaluation = Evaluation(plan_id=plan.id, kind=EvaluationKind.annual, year=2024, status=EvaluationStatus.computed,
                            created_dt=PUBLISHED_AT, computed_dt=PUBLISHED_AT)
    session.add(evaluation)
    session.flush()
    areas = session.exec(select(AreaTarget).where(AreaTarget.plan_id == plan.id).order_by(AreaTarget.position)).all()
    for rank, area in enumerate(areas, start=1):
        reached, required = Decimal("0.1000") - Decimal(rank) / 200, Decimal("0.0800")
        session.add(AreaResult(evaluation_id=evaluation.id, unit_id=area.unit_id, position=area.position, rank=rank,
                               basic_target_pct=area.basic_pct, incentive_target_pct=area.incentive_pct,
                               cumulative_reduction=reached, required_reduction=required,
                               total=Decimal(100 - rank * 3), grade="完成" if reached >= required else "未完成",
                               is_vetoed=reached < required))
    for indicator in session.exec(select(Indicator).where(Indicator.plan_id == plan.id)).all():
        if indicator.baseline_value is not None and indicator.target_value is not None:
            for year, share in ((2023, Decimal("0.5")), (2024, Decimal("0.7"))):
                value = indicator.baseline_value + (indicator.target_value - indicator.baseline_value) * share
                session.add(IndicatorValue(indicator_id=indicator.id, year=year, value=value.quantize(Decimal("0.01")),
                                           updated_dt=PUBLISHED_AT))
    session.commit()
    return reporting_round, evaluation
