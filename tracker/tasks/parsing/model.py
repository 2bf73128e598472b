"""What the parser reads out of a plan document: plain data, no database."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


class PlanParseError(Exception):
    """The text is not a plan the tracker can import; `problems` are (line, message) pairs."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("；".join(f"第 {line} 行：{msg}" if line else msg for line, msg in problems))


@dataclass(frozen=True)
class ParseWarning:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message


@dataclass(frozen=True)
class Owner:
    """A unit or group named as carrying a task."""

    name: str
    role: str                       #: "lead" | "responsible"
    is_group: bool = False
    is_carried_forward: bool = False
    line: int | None = None


@dataclass(frozen=True)
class Target:
    measure: str
    comparator: str | None          #: ">=", ">", "<=", "<", "=", "~" or None (qualitative)
    value: Decimal | None
    unit: str | None
    deadline_year: int | None
    text: str                       #: the source phrase
    line: int | None = None


@dataclass
class Section:
    number: int
    label: str                      #: "二、"
    title: str
    line: int


@dataclass
class Task:
    key: str                        #: stable clause key: "2.3", "4.1.5", "12"
    level: str                      #: "section" | "clause" | "item"
    section_number: int | None
    clause_number: int | None
    number: int
    label: str                      #: "（三）", "3.", "十二、"
    title: str
    text: str
    line: int
    owners: list[Owner] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)

    def names(self, role: str, *, groups: bool = False) -> list[str]:
        return [o.name for o in self.owners if o.role == role and o.is_group == groups]

    @property
    def group_names(self) -> list[str]:
        return [o.name for o in self.owners if o.is_group]


@dataclass
class AreaTarget:
    area: str
    basic_pct: Decimal | None
    incentive_pct: Decimal | None
    line: int
    flags: list[str] = field(default_factory=list)


@dataclass
class Indicator:
    sector: str
    name: str
    unit: str | None
    baseline_year: int | None
    baseline: Decimal | None
    target_year: int | None
    target: Decimal | None
    change: str | None
    line: int
    raw_cells: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass
class ParsedPlan:
    title: str
    doc_number: str | None
    start_year: int | None
    end_year: int | None
    lead_rule_text: str | None
    sections: list[Section]
    tasks: list[Task]
    targets: list[Target]           #: the plan's headline targets (outside any task)
    area_targets: list[AreaTarget]
    indicators: list[Indicator]
    warnings: list[ParseWarning]

    def unit_names(self) -> list[str]:
        """Every unit (not group) the plan names, in document order, once."""
        seen: dict[str, None] = {}
        for task in self.tasks:
            for owner in task.owners:
                if not owner.is_group:
                    seen.setdefault(owner.name, None)
        for area in self.area_targets:
            seen.setdefault(area.area, None)
        return list(seen)

    def group_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for task in self.tasks:
            for owner in task.owners:
                if owner.is_group:
                    seen.setdefault(owner.name, None)
        return list(seen)
