"""Form field rules for rounds, reports, evidence, reviews and the reporting settings."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, StopValidation

from tracker.reporting.models import Light, TaskProgress

#: a figure as people type it, after full-width digits are folded: 15 integer digits, 6 decimals at most
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,6})?|\.[0-9]{1,6})")
EVIDENCE_EXTENSIONS = ["pdf", "docx", "xlsx", "jpg", "jpeg", "png"]
EVIDENCE_ACCEPT = ",".join(f".{ext}" for ext in EVIDENCE_EXTENSIONS)
DECISIONS = ("accept", "return")
CADENCE_CHOICES = [SelectChoice(str(months), label) for months, label in (
    (1, "每月一次"), (2, "每两个月一次"), (3, "每季度一次（默认）"), (4, "每四个月一次"), (6, "每半年一次"), (12, "每年一次"))]


class Filled:
    """Required, keeping a conversion error ("not a date") instead of replacing it as DataRequired does."""

    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        if field.data is None:
            raise StopValidation(self.message)


class DayField(DateField):
    """A date typed as 2025-10-10; blank is no date (a required rule says so), anything else a Chinese error."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%d",
                         invalid_value_message="请按“年-月-日”填写日期，如 2025-10-10", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        super().process_formdata([valuelist[0].strip()])


class WholeNumberField(IntegerField):
    """A whole number; blank is no number, anything else not a whole number a Chinese error."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, invalid_value_message="请填写整数", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        super().process_formdata([unicodedata.normalize("NFKC", valuelist[0]).strip()])


class TargetValueField(StringField):
    """A figure reported against a target: full-width digits and thousands commas accepted, blank means none."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = unicodedata.normalize("NFKC", valuelist[0]).replace("\u2212", "-")
        text = re.sub(r"[,\s]", "", text)
        if not text:
            return
        if not NUMBER_RE.fullmatch(text):
            raise ValueError("请填写数字（不带单位），如 36 或 12.5；最多 15 位整数、6 位小数")
        self.data = Decimal(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format(self.data, "f")


class OpenRoundForm(FlaskForm):
    plan = SelectField("计划", validators=[DataRequired(message="请选择计划")],
                       invalid_choice_message="请从列表中选择计划")
    label = StringField("调度名称", validators=[DataRequired(message="请填写调度名称"),
                                             Length(max=80, message="调度名称不能超过 80 个字")],
                        description="如“2025年第三季度调度”；同一计划的调度名称不能重复。")
    period_start = DayField("调度期开始", validators=[Filled("请填写调度期开始日期")])
    period_end = DayField("调度期结束", validators=[Filled("请填写调度期结束日期")])
    due_date = DayField("报送截止日期", validators=[Filled("请填写报送截止日期")],
                        description="按北京时间，截止日当天报送的不算迟报。")

    def offer_plans(self, plans) -> None:
        self.plan.choices = [SelectChoice(plan.slug, plan.title) for plan in plans]


class ReportForm(FlaskForm):
    """A unit's report. `report_form_for` adds one value field per target of the task."""

    progress_text = TextAreaField("工作进展", validators=[Length(max=5000, message="工作进展不能超过 5000 个字")],
                                  description="本期做了什么、取得了什么成效、下一步打算；报送前必须填写。")
    save_draft = SubmitField("保存草稿")
    submit_report = SubmitField("报送")

    def target_fields(self, targets) -> list:
        """(target, field) for each target of the task, in the task's order."""
        return [(target, self[value_field_name(target.id)]) for target in targets]

    def target_values(self, targets) -> dict[int, Decimal | None]:
        """What was typed for each of the task's own targets (and nothing else)."""
        return {target.id: field.data for target, field in self.target_fields(targets)}


def value_field_name(target_id: int) -> str:
    return f"value_{target_id}"


def report_form_for(targets, **kwargs) -> ReportForm:
    """Build the report form of one task: its fields are named after the task's own targets only."""

    class TaskReportValuesForm(ReportForm):
        pass

    for target in targets:
        setattr(TaskReportValuesForm, value_field_name(target.id), TargetValueField(target.measure))
    return TaskReportValuesForm(**kwargs)


class AttachmentForm(FlaskForm):
    file = FileField("上传佐证材料", validators=[
        FileRequired(message="请选择要上传的文件"),
        FileAllowed(EVIDENCE_EXTENSIONS, message="只接受 PDF、Word（.docx）、Excel（.xlsx）、JPG 和 PNG 文件")],
        description="PDF、Word（.docx）、Excel（.xlsx）、JPG 或 PNG；文件类型按内容检查，中文文件名会保留。")


class ReviewForm(FlaskForm):
    """采纳 or 退回 (with a reason): of a unit's report by the lead, of the consolidated report by coordinators."""

    decision = HiddenField(validators=[AnyOf(DECISIONS, message="请选择采纳或退回")])
    reason = TextAreaField("退回理由", validators=[Length(max=1000, message="理由不能超过 1000 个字")],
                           description="退回时必填，对方会看到。")

    @property
    def accept(self) -> bool:
        return self.decision.data == "accept"


class TaskReportForm(FlaskForm):
    progress = SelectField("推进状态", choices=[SelectChoice(p.value, p.label) for p in TaskProgress],
                           validators=[InputRequired(message="请选择推进状态")],
                           invalid_choice_message="请从列表中选择推进状态")
    progress_pct = StringField("完成进度（%）", validators=[DataRequired(message="请填写完成进度"),
                                                     Length(max=20, message="完成进度请填写 0 到 100 之间的数字")],
                               description="0 到 100 之间的数字，对照序时进度判断是否滞后。")
    narrative = TextAreaField("汇总情况", validators=[DataRequired(message="请填写汇总情况"),
                                                  Length(max=10000, message="汇总情况不能超过 10000 个字")])
    light_override = SelectField("红黄绿灯", default="", invalid_choice_message="请从列表中选择",
                                 choices=[SelectChoice("", "按规则计算（不调整）")]
                                 + [SelectChoice(light.value, f"调整为{light.label}") for light in Light])
    light_override_reason = TextAreaField("调整理由", validators=[Length(max=1000, message="理由不能超过 1000 个字")],
                                          description="调整红黄绿灯时必填，会显示在灯的旁边。")

    @property
    def progress_value(self) -> TaskProgress:
        return TaskProgress(self.progress.data)

    @property
    def light_value(self) -> Light | None:
        return Light(self.light_override.data) if self.light_override.data else None


class SettingsForm(FlaskForm):
    cadence_months = SelectField("调度周期", coerce=int, choices=CADENCE_CHOICES,
                                 invalid_value_message="请从列表中选择调度周期",
                                 invalid_choice_message="请从列表中选择调度周期")
    path_tolerance_pct = WholeNumberField("容许落后于序时进度的百分点",
                                          validators=[Filled("请填写容许落后的百分点")],
                                          description="牵头单位报告的完成进度比序时进度落后超过这么多个百分点时亮黄灯。")
    red_after_working_days = WholeNumberField("逾期多少个工作日亮红灯",
                                              validators=[Filled("请填写工作日数")],
                                              description="截止日期后仍有单位未报送，超过这么多个工作日亮红灯。")
    first_named_leads = BooleanField("只列责任单位的条款，由排在第一位的单位牵头")
