"""The evaluation rules: DOMAIN.md's defaults, versioned — every save is a new RuleSet, results name theirs.

Defaults (each changeable by the office on the rules page):

- pro-rata path: geometric, R_k = 1 − (1 − T)^(k/n) (the official 序时进度); or linear, R_k = T · k / n
- target part: 40 points when the required path is reached, + 3 for each full 10 % beyond it (at most + 9);
  below the path 40 × ⌊c × 10⌋ / 10, and 0 when c < 0.5
- measures part: 0–60, scored by the coordinators
- grades: ≥ 95 超额完成, [80, 95) 完成, [60, 80) 基本完成, < 60 未完成; an area off the path is 未完成 (veto)
- tasks: on-time reporting 0.4, targets met 0.4, consolidated status 0.2; ≥ 90 优秀, ≥ 75 良好, ≥ 60 合格, < 60 不合格
- status scores: 已完成 100, 推进中 80, 滞后 40, 未启动 0
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, func, select

from tracker.accounts.permissions import can_edit_rules, require
from tracker.audit import services as audit
from tracker.errors import Invalid
from tracker.evaluations.models import PathShape, RuleSet
from tracker.reporting.models import TaskProgress

#: the four grades of an area, highest first (the JSON export and the briefings rely on these words)
AREA_GRADES = ("超额完成", "完成", "基本完成", "未完成")
TASK_GRADES = ("优秀", "良好", "合格", "不合格")
#: a task with nothing to judge in the period (no round, no target due)
TASK_NOT_EVALUATED = "未评价"

DEFAULT_BANDS = [{"min": "95", "grade": "超额完成"}, {"min": "80", "grade": "完成"},
                 {"min": "60", "grade": "基本完成"}, {"min": "0", "grade": "未完成"}]
DEFAULT_TASK_WEIGHTS = {"on_time": "0.4", "targets": "0.4", "status": "0.2"}
DEFAULT_TASK_BANDS = [{"min": "90", "grade": "优秀"}, {"min": "75", "grade": "良好"},
                      {"min": "60", "grade": "合格"}, {"min": "0", "grade": "不合格"}]
#: the lead unit's latest consolidated status, as points out of 100
STATUS_SCORES = {TaskProgress.completed: Decimal(100), TaskProgress.in_progress: Decimal(80),
                 TaskProgress.lagging: Decimal(40), TaskProgress.not_started: Decimal(0)}
WEIGHT_LABELS = {"on_time": "按时报送率", "targets": "目标达成率", "status": "推进状态"}
PATH_LABELS = {PathShape.geometric: "几何路径（序时进度）", PathShape.linear: "线性路径"}


def default_rule_set(*, version: int = 1, now: datetime, actor=None) -> RuleSet:
    return RuleSet(version=version, path_shape=PathShape.geometric, target_points=Decimal(40),
                   bonus_per_step=Decimal(3), bonus_cap=Decimal(9), min_share=Decimal("0.5"),
                   measures_points=Decimal(60), bands=[dict(b) for b in DEFAULT_BANDS], is_veto_enabled=True,
                   task_weights=dict(DEFAULT_TASK_WEIGHTS), task_bands=[dict(b) for b in DEFAULT_TASK_BANDS],
                   note="默认规则（DOMAIN.md）", created_dt=now, created_by_id=getattr(actor, "id", None))


def current_rules(session: Session) -> RuleSet | None:
    """The latest rule version, or None before the first use."""
    return session.exec(select(RuleSet).order_by(RuleSet.version.desc()).limit(1)).first()


def rules_for_display(session: Session, *, now: datetime) -> RuleSet:
    """The latest version, or (unsaved) the defaults that the first use will store as version 1."""
    return current_rules(session) or default_rule_set(now=now)


def ensure_rules(session: Session, *, actor, now: datetime) -> RuleSet:
    """The latest rule version; on first use store the defaults as version 1 (flushed, not committed)."""
    rules = current_rules(session)
    if rules is None:
        rules = default_rule_set(now=now, actor=actor)
        session.add(rules)
        session.flush()
    return rules


def rule_history(session: Session, *, limit: int = 50) -> list[RuleSet]:
    return list(session.exec(select(RuleSet).order_by(RuleSet.version.desc()).limit(limit)))


def bands_of(rows: list[dict]) -> list[tuple[Decimal, str]]:
    """Bands as (minimum, grade), highest first."""
    return sorted(((Decimal(str(row["min"])), row["grade"]) for row in rows), key=lambda b: b[0], reverse=True)


def grade_for(total: Decimal, bands: list[tuple[Decimal, str]]) -> str:
    """The first band whose minimum the total reaches; the lowest band otherwise."""
    for minimum, grade in bands:
        if total >= minimum:
            return grade
    return bands[-1][1]


def weights_of(rule_set: RuleSet) -> dict[str, Decimal]:
    return {key: Decimal(str(rule_set.task_weights.get(key, "0"))) for key in WEIGHT_LABELS}


def rule_set_dict(rule_set: RuleSet) -> dict:
    """The rules as plain JSON (for a snapshot and the exports)."""
    return {"version": rule_set.version, "path_shape": rule_set.path_shape.value,
            "target_points": _text(rule_set.target_points), "bonus_per_step": _text(rule_set.bonus_per_step),
            "bonus_cap": _text(rule_set.bonus_cap), "min_share": _text(rule_set.min_share),
            "measures_points": _text(rule_set.measures_points), "bands": list(rule_set.bands),
            "is_veto_enabled": rule_set.is_veto_enabled, "task_weights": dict(rule_set.task_weights),
            "task_bands": list(rule_set.task_bands), "note": rule_set.note}


def _text(value: Decimal) -> str:
    return format(value, "f")


# --- editing -----------------------------------------------------------------------------------------

@dataclass
class RuleFields:
    """What the office may set, as typed (text); every field is validated by `save_rules`."""

    path_shape: str = "geometric"
    target_points: str = "40"
    bonus_per_step: str = "3"
    bonus_cap: str = "9"
    min_share: str = "0.5"
    measures_points: str = "60"
    band_excellent: str = "95"    #: 超额完成 from
    band_complete: str = "80"     #: 完成 from
    band_basic: str = "60"        #: 基本完成 from
    is_veto_enabled: bool = True
    weight_on_time: str = "0.4"
    weight_targets: str = "0.4"
    weight_status: str = "0.2"
    task_band_excellent: str = "90"
    task_band_good: str = "75"
    task_band_pass: str = "60"
    note: str = ""

    @classmethod
    def from_rule_set(cls, rule_set: RuleSet) -> "RuleFields":
        bands = [_text(minimum) for minimum, _ in bands_of(rule_set.bands)]
        task_bands = [_text(minimum) for minimum, _ in bands_of(rule_set.task_bands)]
        weights = weights_of(rule_set)
        return cls(path_shape=rule_set.path_shape.value, target_points=_text(rule_set.target_points),
                   bonus_per_step=_text(rule_set.bonus_per_step), bonus_cap=_text(rule_set.bonus_cap),
                   min_share=_text(rule_set.min_share), measures_points=_text(rule_set.measures_points),
                   band_excellent=bands[0], band_complete=bands[1], band_basic=bands[2],
                   is_veto_enabled=rule_set.is_veto_enabled, weight_on_time=_text(weights["on_time"]),
                   weight_targets=_text(weights["targets"]), weight_status=_text(weights["status"]),
                   task_band_excellent=task_bands[0], task_band_good=task_bands[1], task_band_pass=task_bands[2],
                   note="")


def _number(field: str, text, label: str, *, low: Decimal | None = Decimal(0), high: Decimal | None = None,
            positive: bool = False) -> Decimal:
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise Invalid(field, f"请填写{label}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Invalid(field, f"{label}应为数字，如 {'0.4' if 'weight' in field else '40'}") from None
    if not value.is_finite() or "e" in raw.lower():
        raise Invalid(field, f"{label}应为普通数字")
    if positive and value <= 0:
        raise Invalid(field, f"{label}应大于 0")
    if low is not None and value < low:
        raise Invalid(field, f"{label}不能小于 {low}")
    if high is not None and value > high:
        raise Invalid(field, f"{label}不能大于 {high}")
    return value


def save_rules(session: Session, *, fields: RuleFields, actor, now: datetime) -> RuleSet:
    """Store the office's rules as a new version; earlier results keep naming the version they used.

    :raises PermissionDenied: unless `actor` is the office
    :raises Invalid: for a value that is not a number in its range, bands out of order, weights summing to 0
    """
    require(can_edit_rules(actor), "只有市政府办公室督查科可以修改评价规则")
    try:
        shape = PathShape(fields.path_shape)
    except ValueError:
        raise Invalid("path_shape", "请选择序时进度的计算方式") from None
    target_points = _number("target_points", fields.target_points, "达到序时进度的目标得分", positive=True,
                            high=Decimal(100))
    bonus = _number("bonus_per_step", fields.bonus_per_step, "每超 10% 的加分", high=Decimal(100))
    cap = _number("bonus_cap", fields.bonus_cap, "加分上限", high=Decimal(100))
    min_share = _number("min_share", fields.min_share, "不得分的完成系数下限", high=Decimal(1))
    measures = _number("measures_points", fields.measures_points, "节能措施满分", positive=True, high=Decimal(100))
    excellent = _number("band_excellent", fields.band_excellent, "“超额完成”的最低分", high=Decimal(200))
    complete = _number("band_complete", fields.band_complete, "“完成”的最低分", high=Decimal(200))
    basic = _number("band_basic", fields.band_basic, "“基本完成”的最低分", high=Decimal(200))
    if not complete < excellent:
        raise Invalid("band_complete", "“完成”的最低分应低于“超额完成”的最低分")
    if not basic < complete:
        raise Invalid("band_basic", "“基本完成”的最低分应低于“完成”的最低分")
    weights = {key: _number(f"weight_{key}", getattr(fields, f"weight_{key}"), f"{label}的权重", high=Decimal(1))
               for key, label in WEIGHT_LABELS.items()}
    if sum(weights.values()) <= 0:
        raise Invalid("weight_on_time", "三项权重之和应大于 0")
    task_excellent = _number("task_band_excellent", fields.task_band_excellent, "“优秀”的最低分", high=Decimal(100))
    task_good = _number("task_band_good", fields.task_band_good, "“良好”的最低分", high=Decimal(100))
    task_pass = _number("task_band_pass", fields.task_band_pass, "“合格”的最低分", high=Decimal(100))
    if not task_good < task_excellent:
        raise Invalid("task_band_good", "“良好”的最低分应低于“优秀”的最低分")
    if not task_pass < task_good:
        raise Invalid("task_band_pass", "“合格”的最低分应低于“良好”的最低分")
    note = (fields.note or "").strip()
    if len(note) > 500:
        raise Invalid("note", "修改说明不能超过 500 个字符")
    ensure_rules(session, actor=actor, now=now)  # the defaults stay in the history as version 1
    latest = session.exec(select(func.max(RuleSet.version))).one() or 0
    rule_set = RuleSet(
        version=latest + 1, path_shape=shape, target_points=target_points, bonus_per_step=bonus, bonus_cap=cap,
        min_share=min_share, measures_points=measures, is_veto_enabled=bool(fields.is_veto_enabled),
        bands=[{"min": _text(excellent), "grade": "超额完成"}, {"min": _text(complete), "grade": "完成"},
               {"min": _text(basic), "grade": "基本完成"}, {"min": "0", "grade": "未完成"}],
        task_weights={key: _text(value) for key, value in weights.items()},
        task_bands=[{"min": _text(task_excellent), "grade": "优秀"}, {"min": _text(task_good), "grade": "良好"},
                    {"min": _text(task_pass), "grade": "合格"}, {"min": "0", "grade": "不合格"}],
        note=note, created_dt=now, created_by_id=getattr(actor, "id", None))
    session.add(rule_set)
    session.flush()
    audit.record(session, actor=actor, action="evaluation_rules.saved", now=now, target=rule_set,
                 summary=f"保存评价规则第 {rule_set.version} 版" + (f"：{note}" if note else ""),
                 details=rule_set_dict(rule_set))
    session.commit()
    return rule_set
