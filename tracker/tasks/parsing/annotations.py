"""Read the bracketed annotation that names who carries a clause, in every habit of the genre.

（牵头单位：A；责任单位：B）  （A牵头，B参与）  （A会同B负责）  （A指导，B负责落实）
（A、B、C负责。列第一位者为牵头单位，下同）  （A、B等按职责分工负责）  （A等和各省级人民政府负责）
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

#: a role written as a label: 牵头单位：…；责任单位：…
ROLE_LABEL_RE = re.compile(r"(牵头|责任|配合|参与|协办|主办|承办|协同)(单位|部门)\s*：")
LABEL_ROLES = {"牵头": "lead", "主办": "lead", "责任": "listed", "承办": "listed",
               "配合": "responsible", "参与": "responsible", "协办": "responsible", "协同": "responsible"}
#: a role written as a verb after the names: A牵头，B参与
VERB_RE = re.compile(r"(牵头负责|牵头|会同|指导|负责落实|按职责分工负责|分工负责|负责|参与|配合)")
LEAD_VERBS = {"牵头", "牵头负责", "会同"}
SUPPORT_VERBS = {"参与", "配合"}
LEAD_RULE_RE = re.compile(r"[，。]?\s*((?:列|排在?)第一位的?(?:者|单位|部门)?为牵头(?:单位|部门)(?:[，,]\s*下同)?)")
CARRY_FORWARD_RE = re.compile(r"[，。]?\s*以下均需(.+?)落实[，,]?\s*不再列出[。]?")
SAME_BELOW_RE = re.compile(r"[，,]\s*下同$")

GROUP_STARTS = ("各", "有关", "相关", "其他有关", "其它有关")
UNIT_LIKE_RE = re.compile(r"^[\u3400-\u9fffA-Za-z（）]{2,30}$")
#: a group may list its members with 、 (各区、县级市), a unit never does
GROUP_LIKE_RE = re.compile(r"^[\u3400-\u9fffA-Za-z（）、]{2,30}$")
LEVEL_PREFIXES = ("自治区", "国家", "省", "市")
#: names that already carry their own level and never take a distributed prefix
OWN_LEVEL_STARTS = ("中共", "中央", "全国", "国务院", "共青团", "团", "国")


class AnnotationError(ValueError):
    """An annotation says it names units (牵头单位：…) but names none; `offset` is where it starts."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


@dataclass
class NamedOwner:
    name: str
    role: str           #: "lead", "responsible", or "listed" (no lead given: the rule decides)
    is_group: bool
    offset: int = 0     #: where in the paragraph the annotation starts


@dataclass
class Annotation:
    raw: str
    start: int
    end: int
    owners: list[NamedOwner] = field(default_factory=list)
    carried: list[NamedOwner] = field(default_factory=list)
    lead_rule_text: str | None = None
    line: int | None = None


BRACKET_RE = re.compile("[（）]")


def find_parentheticals(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, content) of each top-level （…） in `text`."""
    found, depth, start = [], 0, 0
    for bracket in BRACKET_RE.finditer(text):  # only the brackets: a loop over every character cost more
        index, ch = bracket.start(), bracket.group()
        if ch == "（":
            if depth == 0:
                start = index
            depth += 1
        elif ch == "）" and depth:
            depth -= 1
            if depth == 0:
                found.append((start, index + 1, text[start + 1:index]))
    return found


def find_annotations(text: str) -> list[Annotation]:
    """Return every annotation in a paragraph, in order.

    :raises AnnotationError: if a labelled annotation names no unit
    """
    annotations = []
    for start, end, content in find_parentheticals(text):
        try:
            annotation = read_annotation(content)
        except AnnotationError as exc:
            raise AnnotationError(str(exc), start) from exc
        if annotation is not None:
            annotation.raw, annotation.start, annotation.end = text[start:end], start, end
            for owner in annotation.owners + annotation.carried:
                owner.offset = start
            annotations.append(annotation)
    return annotations


def read_annotation(content: str) -> Annotation | None:
    """Read one bracket's content; None when it is ordinary prose.

    :raises AnnotationError: if it is labelled (牵头单位：) but names no unit
    """
    body = content.strip()
    lead_rule = None
    if match := LEAD_RULE_RE.search(body):
        lead_rule = match.group(1)
        body = (body[:match.start()] + body[match.end():]).strip("，。 ")
    carried_text = None
    if match := CARRY_FORWARD_RE.search(body):
        carried_text = match.group(1)
        body = (body[:match.start()] + body[match.end():]).strip("，。 ")
    if ROLE_LABEL_RE.search(body):
        owners, same_below = _read_labelled(body, content)
    else:
        owners, same_below = _read_verbs(body)
        if owners is None:
            return None
    carried = [NamedOwner(o.name, "responsible", o.is_group) for o in same_below]
    if carried_text is not None:
        carried += [NamedOwner(name, "responsible", is_group)
                    for name, is_group in distribute_prefix(split_names(carried_text))]
    if not owners and not carried:
        return None
    return Annotation(raw=content, start=0, end=0, owners=owners, carried=carried,
                      lead_rule_text=lead_rule)


def _read_labelled(body: str, content: str) -> tuple[list[NamedOwner], list[NamedOwner]]:
    owners, same_below, prefix = [], [], None
    for statement in re.split(r"[；;。]", body):
        match = ROLE_LABEL_RE.search(statement)
        if not match:
            continue
        role = LABEL_ROLES[match.group(1)]
        names_text = statement[match.end():]
        names_text = re.sub(r"(按职责分工负责|分工负责|负责落实|负责)$", "", names_text.strip())
        is_same_below = bool(SAME_BELOW_RE.search(names_text))
        names_text = SAME_BELOW_RE.sub("", names_text)
        names = split_names(names_text)
        if not names:
            raise AnnotationError(f"批注“（{content}）”的“{match.group(0).rstrip('：')}”后没有写明任何单位")
        resolved, prefix = _distribute(names, prefix)
        for name, is_group in resolved:
            owners.append(NamedOwner(name, role, is_group))
            if is_same_below:
                same_below.append(NamedOwner(name, "responsible", is_group))
    if not owners:
        raise AnnotationError(f"批注“（{content}）”没有写明任何单位")
    return owners, same_below


def _read_verbs(body: str) -> tuple[list[NamedOwner] | None, list[NamedOwner]]:
    """Read `A、B负责` style; None when the bracket is not an annotation."""
    statements = [s for s in re.split(r"[。；]", body) if s.strip()]
    if len(statements) != 1:
        return None, []
    statement = statements[0].strip()
    same_below = bool(SAME_BELOW_RE.search(statement))
    statement = SAME_BELOW_RE.sub("", statement)
    segments, position = [], 0
    for match in VERB_RE.finditer(statement):
        names_text = statement[position:match.start()].strip("，、 ")
        position = match.end()
        if names_text:
            segments.append((names_text, match.group(1)))
    if not segments or statement[position:].strip("，。 "):
        return None, []
    verbs = {verb for _, verb in segments}
    has_lead = bool(verbs & LEAD_VERBS)
    guided = "指导" in verbs and len(segments) > 1
    owners, prefix, after_lead = [], None, False
    for names_text, verb in segments:
        names = split_names(names_text)
        if not names or not all((GROUP_LIKE_RE if is_group else UNIT_LIKE_RE).match(name)
                                for name, is_group in names):
            return None, []
        if has_lead:
            role = "lead" if verb in LEAD_VERBS and not after_lead else "responsible"
            after_lead = after_lead or verb in LEAD_VERBS
        elif guided:
            # 指导 is guidance, not 牵头: the guiding unit stands first in line, and the clause's first
            # named unit leads unless some annotation says 牵头
            role = "listed" if verb == "指导" else "responsible"
        else:
            role = "responsible" if verb in SUPPORT_VERBS else "listed"
        resolved, prefix = _distribute(names, prefix)
        owners += [NamedOwner(name, role, is_group) for name, is_group in resolved]
    carried = [NamedOwner(o.name, "responsible", o.is_group) for o in owners] if same_below else []
    return owners, carried


def is_group_name(name: str) -> bool:
    """A set of units named as one (各有关部门, 各省级人民政府, 试点城市政府)."""
    return name.startswith(GROUP_STARTS) or "试点" in name or "各级" in name


def normalise_group(name: str) -> str:
    name = re.sub(r"^(其他|其它)", "", name).rstrip("等")
    if name.startswith(("有关", "相关")):
        name = "各" + name
    return name


def split_names(text: str) -> list[tuple[str, bool]]:
    """Split a list of names into (name, is_group); a `，` part opening with 各 is one group."""
    text = text.strip("，、。；： ")
    text = re.sub(r"(按职责分工负责|分工负责|负责落实|负责)$", "", text)
    result: list[tuple[str, bool]] = []
    for part in re.split(r"[，,]|等和|和(?=各)|以及|及(?=各)", text):
        part = part.strip("、 ")
        if not part:
            continue
        if is_group_name(part):
            result.append((normalise_group(part), True))
            continue
        group_tail = None
        if match := re.search(r"等(?=(有关|各|相关|其他))", part):
            part, group_tail = part[:match.start()], part[match.end():]
        for name in part.split("、"):
            name = name.strip().rstrip("等")
            if name:
                result.append((normalise_group(name), True) if is_group_name(name) else (name, False))
        if group_tail:
            result.append((normalise_group(group_tail), True))
    return result


def level_prefix(name: str) -> str | None:
    if name.startswith("市场"):
        return None
    if name.startswith("省级"):
        return None
    for prefix in LEVEL_PREFIXES:
        if name.startswith(prefix):
            return prefix
    return None


def _takes_prefix(name: str, prefix: str) -> bool:
    if level_prefix(name) or name.startswith(OWN_LEVEL_STARTS):
        return False
    if prefix == "国家":
        # 国家发展改革委、能源局 means 国家能源局; ministries (部) and 总局 never take 国家
        return name.endswith("局") and not name.endswith("总局")
    return True


def _distribute(names: list[tuple[str, bool]], prefix: str | None):
    """Write the list's level prefix once-for-all: 市工业和信息化局、发展改革委 → 市发展改革委."""
    units = [name for name, is_group in names if not is_group]
    if units and (own := level_prefix(units[0])):
        prefix = own
    resolved = []
    for name, is_group in names:
        if not is_group and prefix and _takes_prefix(name, prefix):
            name = prefix + name
        resolved.append((name, is_group))
    return resolved, prefix


def distribute_prefix(names: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    return _distribute(names, None)[0]
