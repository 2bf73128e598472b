"""Synthetic plans at three sizes, generated from a seeded random number generator and bulk-inserted.

A scale fixes units, tasks, assignments (task × unit, the plan's owners) and reports: every
reporting round copies the assignments, and every copy carries a report, so rounds = reports ÷
assignments. The last round is open, its reports in every status; the earlier rounds are closed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tracker import migrate
from tracker.accounts.models import User, UserRole
from tracker.accounts.services import hash_password
from tracker.agencies.models import Contact, Unit, UnitKind
from tracker.reporting.models import (ReportingRound, ReportStatus, ReviewStatus, RoundAssignment, RoundStatus,
                                      TaskProgress, TaskReport, UnitReport)
from tracker.tasks.models import Comparator, Plan, Role, Section, Target, Task, TaskAssignment, TaskLevel

NOW = datetime(2025, 10, 20, 2, 0, tzinfo=timezone.utc)
PASSWORD = "bench-password-2025"


@dataclass(frozen=True)
class Scale:
    name: str
    units: int
    tasks: int
    assignments: int
    reports: int

    @property
    def rounds(self) -> int:
        return max(1, self.reports // self.assignments)


SCALES = {
    "city": Scale("city", units=60, tasks=25, assignments=100, reports=500),
    "province": Scale("province", units=6_000, tasks=5_000, assignments=20_000, reports=100_000),
    "nation": Scale("nation", units=60_000, tasks=100_000, assignments=300_000, reports=600_000),
}


@dataclass
class Dataset:
    """What the operations need to find in the generated data."""

    scale: Scale
    plan_slug: str
    open_round_id: int
    unit_user: str          #: a unit account with work in the open round (it leads tasks there)
    office_user: str
    leader_user: str
    sample_task_id: int
    password: str = PASSWORD


def generate(url: str, scale: Scale, *, seed: int = 20251020) -> Dataset:
    """Create the schema at `url` (dropping what is there) and fill it for `scale`."""
    from tracker.db import make_engine

    engine = make_engine(url)
    _reset(engine, url)
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    with engine.begin() as connection:
        dataset = _fill(connection, scale, rng)
    if engine.dialect.name == "postgresql":
        _reset_sequences(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return dataset


def _reset(engine: Engine, url: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    else:
        from pathlib import Path
        path = Path(sa.engine.make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _insert(connection, model, rows: list[dict], chunk: int = 20_000) -> None:
    table = model.__table__
    for start in range(0, len(rows), chunk):
        connection.execute(table.insert(), rows[start:start + chunk])


def _fill(connection, scale: Scale, rng: random.Random) -> Dataset:
    units = [{"id": n, "name": f"单位{n:06d}", "full_name": f"合成单位{n:06d}", "created_dt": NOW,
              "kind": (UnitKind.area if n % 10 == 0 else UnitKind.department).value, "is_active": True,
              "is_in_directory": True, "code": f"u{n}"} for n in range(1, scale.units + 1)]
    _insert(connection, Unit, units)
    _insert(connection, Contact, [{"unit_id": n, "name": "联络员", "email": f"u{n}@bench.test", "updated_dt": NOW}
                                  for n in range(1, scale.units + 1)])
    shared_hash = hash_password(PASSWORD)
    users = [{"id": 1, "username": "office", "display_name": "督查科", "unit_id": 1, "role": UserRole.office.value},
             {"id": 2, "username": "coordinator", "display_name": "统筹", "unit_id": 2, "role": UserRole.coordinator.value},
             {"id": 3, "username": "leader", "display_name": "领导", "unit_id": 1, "role": UserRole.leader.value},
             {"id": 4, "username": "unit", "display_name": "承办人", "unit_id": 3, "role": UserRole.unit.value}]
    for user in users:
        user.update(email=f"{user['username']}@bench.test", password_hash=shared_hash, is_active=True,
                    session_epoch=0, created_dt=NOW, password_changed_dt=NOW)
    _insert(connection, User, users)
    _insert(connection, Plan, [{"id": 1, "slug": "bench", "title": f"合成计划（{scale.name}）", "source_sha256": "0" * 64,
                                "imported_dt": NOW, "updated_dt": NOW, "start_year": 2021, "end_year": 2025}])
    sections = min(10, scale.tasks)
    _insert(connection, Section, [{"id": s, "plan_id": 1, "number": s, "label": f"{s}、", "title": f"第{s}部分",
                                   "line": s} for s in range(1, sections + 1)])
    tasks, targets = [], []
    for n in range(1, scale.tasks + 1):
        section = (n - 1) % sections + 1
        tasks.append({"id": n, "plan_id": 1, "section_id": section, "key": f"{section}.{n}",
                      "level": TaskLevel.clause.value, "section_number": section, "number": n, "label": f"（{n}）",
                      "title": f"合成任务{n}", "text": f"合成任务{n}的条款文字，到2025年完成目标。", "line": n,
                      "position": n, "is_active": True})
        targets.append({"id": n, "plan_id": 1, "task_id": n, "position": 0, "measure": "完成率",
                        "comparator": Comparator.at_least.value, "value": "90", "unit": "%",
                        "deadline_year": 2025, "text": "完成率达到90%", "line": n})
    _insert(connection, Task, tasks)
    _insert(connection, Target, targets)
    per_task, extra = divmod(scale.assignments, scale.tasks)
    owners: list[tuple[int, int, str]] = []
    for task_id in range(1, scale.tasks + 1):
        count = per_task + (1 if task_id <= extra else 0)
        chosen = rng.sample(range(1, scale.units + 1), min(count, scale.units))
        if task_id % 5 == 1 and 3 not in chosen:
            chosen[0] = 3  # the bench's unit account leads every fifth task
        for position, unit_id in enumerate(chosen):
            owners.append((task_id, unit_id, (Role.lead if position == 0 else Role.responsible).value))
    _insert(connection, TaskAssignment, [{"id": i, "task_id": t, "unit_id": u, "role": r, "position": i,
                                          "is_carried_forward": False}
                                         for i, (t, u, r) in enumerate(owners, 1)])
    rounds, round_assignments, reports, task_reports = [], [], [], []
    statuses = [ReportStatus.accepted, ReportStatus.submitted, ReportStatus.draft, ReportStatus.returned]
    assignment_id = 0
    for index in range(scale.rounds):
        round_id = index + 1
        end = date(2024, 3, 31) + timedelta(days=91 * index)
        is_open = round_id == scale.rounds
        rounds.append({"id": round_id, "plan_id": 1, "label": f"第{round_id}次调度", "period_start": end - timedelta(days=90),
                       "period_end": end, "due_date": date(2025, 10, 10) if is_open else end + timedelta(days=10),
                       "status": (RoundStatus.open if is_open else RoundStatus.closed).value, "opened_dt": NOW})
        for task_id, unit_id, role in owners:
            assignment_id += 1
            round_assignments.append({"id": assignment_id, "round_id": round_id, "task_id": task_id,
                                      "unit_id": unit_id, "role": role, "is_carried_forward": False})
            status = rng.choice(statuses) if is_open else ReportStatus.accepted
            submitted = status is not ReportStatus.draft
            reports.append({"id": assignment_id, "assignment_id": assignment_id, "round_id": round_id,
                            "task_id": task_id, "unit_id": unit_id, "status": status.value,
                            "progress_text": "按计划推进，已完成阶段目标。", "submitted_dt": NOW if submitted else None,
                            "is_late": submitted and rng.random() < 0.15, "updated_dt": NOW,
                            "returned_reason": "请补充佐证材料" if status is ReportStatus.returned else None})
        for task_id in range(1, scale.tasks + 1):
            if is_open and task_id % 3 == 0:
                continue
            task_reports.append({"round_id": round_id, "task_id": task_id, "unit_id": owners[0][1],
                                 "progress": rng.choice(list(TaskProgress)).value,
                                 "progress_pct": str(Decimal(rng.randint(30, 100))), "narrative": "总体进展顺利。",
                                 "submitted_dt": NOW, "review_status": ReviewStatus.accepted.value})
    _insert(connection, ReportingRound, rounds)
    _insert(connection, RoundAssignment, round_assignments)
    _insert(connection, UnitReport, reports)
    _insert(connection, TaskReport, task_reports)
    return Dataset(scale=scale, plan_slug="bench", open_round_id=scale.rounds, unit_user="unit",
                   office_user="office", leader_user="leader", sample_task_id=scale.tasks // 2 or 1)


def _reset_sequences(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in sa.inspect(engine).get_table_names():
            if "id" in {c["name"] for c in sa.inspect(connection).get_columns(table)}:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false) "
                    f"WHERE pg_get_serial_sequence('{table}', 'id') IS NOT NULL")
