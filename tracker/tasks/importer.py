"""Import a plan document: parse it, resolve its units, write everything in one transaction."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from tracker.agencies.models import Unit, UnitGroup
from tracker.agencies.services import NameIndex, directory_names, merge_directory
from tracker.accounts.permissions import can_import_plan, require
from tracker.audit import services as audit
from tracker.errors import Invalid
from tracker.tasks import parsing
from tracker.tasks.models import Indicator, Plan, PlanImport, Section, Target, Task
from tracker.tasks.plan_writes import (resolve_groups, resolve_units, write_area_targets, write_group_members,
                                       write_indicators, write_sections, write_targets, write_tasks)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do), in plain data."""

    slug: str
    title: str
    plan_id: int | None = None
    is_new: bool = False
    is_unchanged: bool = False
    is_dry_run: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    added_tasks: list[str] = field(default_factory=list)
    changed_tasks: list[str] = field(default_factory=list)
    withdrawn_tasks: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    empty_groups: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        head = "（试运行，未写入）" if self.is_dry_run else ""
        lines = [f"计划 {self.slug}：{self.title}{head}"]
        if self.is_unchanged:
            lines.append("文件与上次导入完全相同，没有任何改动。")
            return lines
        c = self.counts
        lines.append(f"{'新建计划' if self.is_new else '更新计划'}：章节 {c.get('sections', 0)} 个，任务 {c.get('tasks', 0)} 项，"
                     f"单位 {c.get('units', 0)} 个，单位组 {c.get('groups', 0)} 个，目标 {c.get('targets', 0)} 个，"
                     f"地区目标 {c.get('area_targets', 0)} 个，指标 {c.get('indicators', 0)} 个")
        if not self.is_new:
            lines.append(f"新增任务 {len(self.added_tasks)} 项，修改 {len(self.changed_tasks)} 项，撤销 {len(self.withdrawn_tasks)} 项")
            lines += [f"  修改：{item}" for item in self.changed_tasks]
            lines += [f"  撤销：{item}" for item in self.withdrawn_tasks]
        if self.new_units:
            lines.append(f"单位目录中没有、已按原文新建的单位 {len(self.new_units)} 个：{'、'.join(self.new_units)}")
        if self.new_groups:
            lines.append(f"新建的单位组 {len(self.new_groups)} 个：{'、'.join(self.new_groups)}")
        if self.empty_groups:
            lines.append(f"尚无成员的单位组（开启调度前请在单位目录中补充）：{'、'.join(self.empty_groups)}")
        if self.warnings:
            lines.append(f"提示 {len(self.warnings)} 条：")
            lines += [f"  {w}" for w in self.warnings]
        return lines


def slug_from_filename(filename: str) -> str:
    stem = re.sub(r"\.(txt|docx|text)$", "", filename.rsplit("/", 1)[-1], flags=re.I).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:80]
    return slug or "plan"


def read_plan_document(data: bytes, filename: str, *, first_named_leads: bool = True) -> parsing.ParsedPlan:
    """Decode and parse an uploaded document.

    :raises PlanParseError: if it is not a plan, naming the line that is wrong
    """
    return parsing.parse_plan(parsing.read_document(data, filename), first_named_leads=first_named_leads)


def import_plan(session: Session, data: bytes, *, filename: str, slug: str, directory: dict | None,
                actor, now: datetime, dry_run: bool = False, first_named_leads: bool = True) -> ImportResult:
    """Import (or re-import) a plan document in one transaction; a dry run writes nothing.

    :raises PermissionDenied: unless `actor` may import plans (the office)
    :raises PlanParseError: if the file is not a plan, or names something longer than the database
        keeps (nothing is written)
    :raises Invalid: if the slug is malformed or the file name too long
    """
    require(can_import_plan(actor))
    if not SLUG_RE.match(slug):
        raise Invalid("slug", "标识只能由小写字母、数字和连字符组成，且以字母或数字开头")
    if len(filename) > _width(Plan.__table__.c.source_filename):
        raise Invalid("filename", f"文件名不能超过 {_width(Plan.__table__.c.source_filename)} 个字符，请改短后重新上传")
    parsed = read_plan_document(data, filename, first_named_leads=first_named_leads)
    if problems := _too_long(parsed):
        raise parsing.PlanParseError(problems)
    sha256 = hashlib.sha256(data).hexdigest()
    savepoint = session.begin_nested()
    try:
        result = _apply(session, parsed, sha256=sha256, filename=filename, slug=slug,
                        directory=directory, actor=actor, now=now)
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
        result.is_dry_run = True
        result.plan_id = None if result.is_new else result.plan_id
        return result
    savepoint.commit()
    session.commit()
    return result


def _width(column) -> int:
    """The characters a column keeps (DecimalText keeps a number as text in a String)."""
    return getattr(column.type, "impl", column.type).length


def _too_long(parsed: parsing.ParsedPlan) -> list[tuple[int | None, str]]:
    """Every label, name or figure of the document longer than its column, with its line.

    SQLite would keep it, PostgreSQL refuses the whole import with an error the user cannot read.
    """
    problems: list[tuple[int | None, str]] = []

    def check(line, text, column, what) -> None:
        if text is not None and len(text) > _width(column):
            shown = text if len(text) <= 30 else text[:30] + "…"
            problems.append((line, f"{what}“{shown}”过长（{len(text)} 个字符，最多 {_width(column)} 个），"
                                   "无法保存，请核对原文"))

    def check_number(line, value, what) -> None:
        check(line, None if value is None else format(value, "f"), Target.__table__.c.value, what)

    for section in parsed.sections:
        check(section.line, section.label, Section.__table__.c.label, "章节编号")
    for task in parsed.tasks:
        check(task.line, task.label, Task.__table__.c.label, "条款编号")
        check(task.line, task.key, Task.__table__.c.key, "条款编号")
        for owner in task.owners:
            check(owner.line or task.line, owner.name,
                  (UnitGroup if owner.is_group else Unit).__table__.c.name, "单位组名称" if owner.is_group else "单位名称")
        if parsed.lead_rule_text and any(parsed.lead_rule_text in raw for raw in task.annotations):
            check(task.line, parsed.lead_rule_text, Plan.__table__.c.lead_rule_text, "牵头单位说明")
    for target in parsed.targets + [t for task in parsed.tasks for t in task.targets]:
        check(target.line, target.measure, Target.__table__.c.measure, "目标名称")
        check(target.line, target.unit, Target.__table__.c.unit, "目标计量单位")
        check_number(target.line, target.value, "目标值")
    for area in parsed.area_targets:
        check(area.line, area.area, Unit.__table__.c.name, "附件地区名称")
        check_number(area.line, area.basic_pct, "基本目标")
        check_number(area.line, area.incentive_pct, "激励目标")
    for indicator in parsed.indicators:
        check(indicator.line, indicator.sector, Indicator.__table__.c.sector, "附件指标所属领域")
        check(indicator.line, indicator.name, Indicator.__table__.c.name, "附件指标名称")
        check(indicator.line, indicator.unit, Indicator.__table__.c.unit, "附件指标计量单位")
        check(indicator.line, indicator.change, Indicator.__table__.c.change_text, "附件指标变化幅度")
        check_number(indicator.line, indicator.baseline, "附件指标基期值")
        check_number(indicator.line, indicator.target, "附件指标目标值")
    return list(dict.fromkeys(problems))


#: up to this many units the import reads the whole directory's names rather than looking up its own
WHOLE_DIRECTORY_UNITS = 2000


def _apply(session: Session, parsed: parsing.ParsedPlan, *, sha256: str, filename: str, slug: str,
           directory: dict | None, actor, now: datetime) -> ImportResult:
    # a city's directory is read whole (one cheap query); a province's or a nation's only for the names wanted
    # is there a unit past the threshold: stops reading there, where counting a nation's 60,000 took 3 ms
    large = session.exec(select(Unit.id).offset(WHOLE_DIRECTORY_UNITS).limit(1)).first() is not None
    names = {*parsed.unit_names(), *parsed.group_names()} | directory_names(directory) if large else None
    index = NameIndex.load(session, names)
    if directory and not index.covers(directory):
        merge_directory(session, directory, now=now)
        index = NameIndex.load(session, names)
    plan = session.exec(select(Plan).where(Plan.slug == slug)).first()
    result = ImportResult(slug=slug, title=parsed.title, is_new=plan is None)
    if plan is not None and plan.source_sha256 == sha256:
        result.plan_id, result.is_unchanged = plan.id, True
        return result
    if plan is None:
        plan = Plan(slug=slug, title=parsed.title, source_sha256=sha256, imported_dt=now, updated_dt=now)
        session.add(plan)
    plan.title, plan.doc_number = parsed.title, parsed.doc_number
    plan.start_year, plan.end_year = parsed.start_year, parsed.end_year
    plan.lead_rule_text, plan.source_filename = parsed.lead_rule_text, filename
    plan.source_sha256, plan.updated_dt = sha256, now
    session.flush()
    result.plan_id = plan.id

    units = resolve_units(session, parsed, index, result, now)
    groups = resolve_groups(session, parsed, index, result, now)
    # a plan imported for the first time has no rows to compare with: its writers skip reading them
    is_new = result.is_new
    sections = write_sections(session, plan, parsed, is_new=is_new)
    task_ids = write_tasks(session, plan, parsed, sections, units, groups, result)
    write_group_members(session, plan, result, task_ids)
    write_targets(session, plan.id, None, parsed.targets, [] if is_new else session.exec(
        select(Target).where(Target.plan_id == plan.id, Target.task_id.is_(None)).order_by(Target.position)).all())
    repeated_areas = write_area_targets(session, plan, parsed, units, is_new=is_new)
    repeated_indicators = write_indicators(session, plan, parsed, is_new=is_new)
    result.warnings = [str(w) for w in parsed.warnings] + repeated_areas + repeated_indicators
    result.counts = {
        "sections": len(parsed.sections), "tasks": len(parsed.tasks), "units": len(parsed.unit_names()),
        "groups": len(parsed.group_names()),
        "targets": len(parsed.targets) + sum(len(t.targets) for t in parsed.tasks),
        "area_targets": len(parsed.area_targets), "indicators": len(parsed.indicators)}
    session.add(PlanImport(plan_id=plan.id, imported_dt=now, filename=filename, sha256=sha256,
                           actor_id=getattr(actor, "id", None), report=_report(result)))
    audit.record(session, actor=actor, action="plan.imported", now=now, target=plan,
                 summary=f"{'导入' if result.is_new else '重新导入'}计划“{plan.title}”（{filename}）")
    return result


def _report(result: ImportResult) -> dict:
    return {key: getattr(result, key) for key in (
        "is_new", "counts", "added_tasks", "changed_tasks", "withdrawn_tasks", "new_units",
        "new_groups", "empty_groups", "warnings")}
