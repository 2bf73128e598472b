"""Find the document's parts (一、 （一） 1.), decide which are tasks, and read them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.tasks.parsing import annexes
from tracker.tasks.parsing.annotations import Annotation, AnnotationError, find_annotations
from tracker.tasks.parsing.model import (Owner, ParsedPlan, ParseWarning, PlanParseError, Section,
                                         Target, Task)
from tracker.tasks.parsing.numerals import chinese_to_int, five_year_plan_years
from tracker.tasks.parsing.repair import (ANNEX_RE, CLAUSE_RE, DATE_LINE_RE, DOC_NUMBER_RE,
                                          ITEM_RE, SECTION_RE, Paragraph, repair)
from tracker.tasks.parsing.targets import extract_targets

LEVELS = ("section", "clause", "item")
RELEASE_NOTE_RE = re.compile(r"^（此件(公开发布|发至.*)）$")
FIVE_YEAR_RE = re.compile(r"十([一二三四五六七八九])五")
YEAR_SPAN_RE = re.compile(r"(20\d{2})\s*[-—–～~至]+\s*(20\d{2})")


@dataclass
class Node:
    level: str
    number: int
    label: str
    paragraphs: list[Paragraph]
    parent: "Node | None" = None
    children: list["Node"] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    #: the annotated part above whose annotation this part carries
    inherited_from: "Node | None" = None

    @property
    def line(self) -> int:
        return self.paragraphs[0].line

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)

    def path(self) -> dict[str, int]:
        node, numbers = self, {}
        while node is not None:
            numbers[node.level] = node.number
            node = node.parent
        return numbers


def parse_plan(raw: str, *, first_named_leads: bool = True) -> ParsedPlan:
    """Read a plan document's text into sections, tasks, units, targets and annex tables.

    :raises PlanParseError: if the text has no numbered clauses, no annotated task,
        an annotation that names no unit, or two tasks numbered alike
    """
    paragraphs = repair(raw)
    if not paragraphs:
        raise PlanParseError([(1, "文件是空的")])
    title, doc_number, body_start = _title(paragraphs)
    body, annex_part = _split_annexes(paragraphs[body_start:])
    body = _without_signatures(body)
    roots, preamble = _tree(body)
    if not roots:
        raise PlanParseError([(paragraphs[min(body_start, len(paragraphs) - 1)].line,
                               "未找到“一、”“（一）”或“1.”形式的条款编号，这不是一份可导入的规划文件")])
    problems: list[tuple[int | None, str]] = []
    for node in _walk(roots):
        for paragraph in node.paragraphs:
            try:
                node.annotations += _annotations(paragraph)
            except AnnotationError as exc:
                problems.append((paragraph.line_at(exc.offset), str(exc)))
    if problems:
        raise PlanParseError(problems)
    start_year, end_year = _years(title)
    task_nodes = _task_nodes(roots)
    if not task_nodes:
        raise PlanParseError([(roots[0].line, "没有任何条款标明牵头单位或责任单位（如“（牵头单位：…；责任单位：…）”）")])
    warnings: list[ParseWarning] = []
    tasks, lead_rule = _tasks(task_nodes, end_year, first_named_leads, warnings)
    if problems := _repeated_numbers(tasks):
        raise PlanParseError(problems)
    task_ids = {id(node) for node in task_nodes}
    headline = [t for node in _walk(roots) if id(node) not in task_ids and not _has_task_below(node, task_ids)
                for t in _node_targets(node, end_year)]
    sections = [Section(number=n.number, label=n.label, title=_title_of(n), line=n.line)
                for n in roots if n.level == "section" and id(n) not in task_ids]
    area_targets, indicators, annex_warnings = annexes.read_annexes(annex_part)
    return ParsedPlan(title=title, doc_number=doc_number, start_year=start_year, end_year=end_year,
                      lead_rule_text=lead_rule, sections=sections, tasks=tasks, targets=headline,
                      area_targets=area_targets, indicators=indicators,
                      warnings=warnings + annex_warnings)


def _title(paragraphs: list[Paragraph]) -> tuple[str, str | None, int]:
    """The title is the opening short paragraph(s); a 国发〔2018〕39号 line may follow."""
    title_parts, index = [], 0
    while index < len(paragraphs):
        text = paragraphs[index].text
        if (len(text) > 60 or "。" in text or "，" in text or text.endswith("：")
                or SECTION_RE.match(text) or CLAUSE_RE.match(text) or DOC_NUMBER_RE.match(text)):
            break
        title_parts.append(text)
        index += 1
        if len(title_parts) == 2:
            break
    doc_number = None
    if index < len(paragraphs) and DOC_NUMBER_RE.match(paragraphs[index].text):
        doc_number = paragraphs[index].text
        index += 1
    return "".join(title_parts) or "未命名计划", doc_number, index


def _split_annexes(paragraphs: list[Paragraph]) -> tuple[list[Paragraph], list[Paragraph]]:
    for index, paragraph in enumerate(paragraphs):
        if ANNEX_RE.match(paragraph.text) and not paragraph.is_table_row:
            return paragraphs[:index], paragraphs[index:]
    return paragraphs, []


def _without_signatures(body: list[Paragraph]) -> list[Paragraph]:
    """Drop the issuing body, the date and the release note that close an official document."""
    keep = []
    for index, paragraph in enumerate(body):
        text = paragraph.text
        if DATE_LINE_RE.match(text) or RELEASE_NOTE_RE.match(text):
            continue
        following = body[index + 1].text if index + 1 < len(body) else ""
        if DATE_LINE_RE.match(following) and len(text) <= 20 and not re.search(r"[，。；]", text):
            continue
        keep.append(paragraph)
    return keep


def _tree(body: list[Paragraph]) -> tuple[list[Node], list[Paragraph]]:
    roots: list[Node] = []
    preamble: list[Paragraph] = []
    open_nodes: dict[str, Node] = {}
    for paragraph in body:
        found = _marker(paragraph.text)
        if found is None:
            deepest = next((open_nodes[level] for level in reversed(LEVELS) if level in open_nodes), None)
            (deepest.paragraphs if deepest else preamble).append(paragraph)
            continue
        level, number, label = found
        depth = LEVELS.index(level)
        parent = next((open_nodes[lv] for lv in reversed(LEVELS[:depth]) if lv in open_nodes), None)
        node = Node(level=level, number=number, label=label, paragraphs=[paragraph], parent=parent)
        (parent.children if parent else roots).append(node)
        open_nodes = {lv: n for lv, n in open_nodes.items() if LEVELS.index(lv) < depth}
        open_nodes[level] = node
    return roots, preamble


def _marker(text: str) -> tuple[str, int, str] | None:
    if match := SECTION_RE.match(text):
        return "section", chinese_to_int(match.group(1)), match.group(0)
    if match := CLAUSE_RE.match(text):
        return "clause", chinese_to_int(match.group(1)), match.group(0)
    if match := ITEM_RE.match(text):
        return "item", int(match.group(1)), f"{match.group(1)}."
    return None


def _walk(nodes: list[Node]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def _annotations(paragraph: Paragraph) -> list[Annotation]:
    found = find_annotations(paragraph.text)
    for annotation in found:
        annotation.line = paragraph.line_at(annotation.start)
    return found


def _task_nodes(roots: list[Node]) -> list[Node]:
    """The smallest numbered parts that carry an annotation or inherit one from above."""
    result: list[Node] = []

    def visit(node: Node, inherited: bool) -> None:
        annotated = bool(node.annotations) or inherited
        below_before = len(result)
        for child in node.children:
            visit(child, annotated)
        if len(result) == below_before and annotated:
            result.append(node)
        elif len(result) > below_before and node.annotations:
            # the children are the tasks; children without their own annotation inherit this one
            for child_task in result[below_before:]:
                if not child_task.annotations:
                    child_task.inherited_from = node

    for root in roots:
        visit(root, False)
    result.sort(key=lambda n: n.line)
    return result


def _repeated_numbers(tasks: list[Task]) -> list[tuple[int | None, str]]:
    """Two tasks numbered alike (（一） twice in one part) would be one task: name each repeat."""
    first: dict[str, Task] = {}
    problems: list[tuple[int | None, str]] = []
    for task in tasks:
        if task.key in first:
            problems.append((task.line, f"条款编号“{task.label}”与第 {first[task.key].line} 行的条款编号重复，"
                                        "请核对原文的编号"))
        else:
            first[task.key] = task
    return problems


def _has_task_below(node: Node, task_ids: set[int]) -> bool:
    return any(id(n) in task_ids for n in _walk(node.children))


def _title_of(node: Node) -> str:
    text = node.paragraphs[0].text[len(node.label):]
    first = re.split(r"[。]", text, maxsplit=1)[0]
    first = re.sub(r"（[^（）]*）$", "", first) if first.endswith("）") and "负责" in first else first
    return first[:120].strip() or text[:120]


def _blank_annotations(paragraph: Paragraph, annotations: list[Annotation]) -> str:
    text = paragraph.text
    for annotation in annotations:
        if annotation.raw and annotation.raw in text:
            text = text.replace(annotation.raw, "。")
    return text


def _node_targets(node: Node, default_year: int | None) -> list[Target]:
    found = []
    for paragraph in node.paragraphs:
        annotations = [a for a in node.annotations if a.raw in paragraph.text]
        text = _blank_annotations(paragraph, annotations)
        if paragraph is node.paragraphs[0]:
            # the clause title (（一）重点行业绿色升级工程。) is not a commitment
            text = " " * len(node.label) + text[len(node.label):]
        found += extract_targets(text, default_year=default_year, line_at=paragraph.line_at)
    return found


def _tasks(nodes: list[Node], end_year: int | None, first_named_leads: bool,
           warnings: list[ParseWarning]) -> tuple[list[Task], str | None]:
    tasks, carried, lead_rule = [], [], None
    for node in nodes:
        annotations = node.annotations or (node.inherited_from or node).annotations
        lead_rule = lead_rule or next((a.lead_rule_text for a in annotations if a.lead_rule_text), None)
        owners = _owners(annotations, first_named_leads)
        for annotation in annotations:
            for owner in annotation.carried:
                if owner.name not in {c.name for c in carried}:
                    carried.append(Owner(owner.name, "responsible", owner.is_group, True,
                                         annotation.line))
        named = {o.name for o in owners}
        owners += [c for c in carried if c.name not in named]
        if not any(o.role == "lead" for o in owners):
            warnings.append(ParseWarning(node.line, f"条款“{_title_of(node)}”没有可认定的牵头单位"))
        path = node.path()
        key = ".".join(str(path.get(level, 0)) for level in LEVELS[:LEVELS.index(node.level) + 1])
        tasks.append(Task(
            key=key, level=node.level,
            section_number=path.get("section") if node.level != "section" else None,
            clause_number=path.get("clause") if node.level == "item" else None,
            number=node.number, label=node.label, title=_title_of(node), text=node.text,
            line=node.line, owners=owners, targets=_node_targets(node, end_year),
            annotations=[a.raw for a in annotations]))
    return tasks, lead_rule


def _owners(annotations: list[Annotation], first_named_leads: bool) -> list[Owner]:
    """Merge a task's annotations: explicit leads win; else the first named leads (configurable)."""
    merged: dict[str, Owner] = {}
    explicit_lead = any(o.role == "lead" for a in annotations for o in a.owners)
    first_listed = True
    for annotation in annotations:
        line = annotation.line
        for named in annotation.owners:
            role = named.role
            if role == "listed":
                if explicit_lead:
                    role = "responsible"
                elif first_named_leads:
                    role = "lead" if first_listed else "responsible"
                else:
                    role = "lead"
                first_listed = False
            existing = merged.get(named.name)
            if existing is None or (existing.role != "lead" and role == "lead"):
                merged[named.name] = Owner(named.name, role, named.is_group, False, line)
    return list(merged.values())


def _years(title: str) -> tuple[int | None, int | None]:
    if match := YEAR_SPAN_RE.search(title):
        return int(match.group(1)), int(match.group(2))
    if match := FIVE_YEAR_RE.search(title):
        return five_year_plan_years(10 + chinese_to_int(match.group(1)))
    return None, None
