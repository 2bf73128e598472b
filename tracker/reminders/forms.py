"""Form field rules for the reminder policy and the calendar."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

REQUIRED = InputRequired(message="请填写")


class PolicyForm(FlaskForm):
    is_enabled = BooleanField("发送提醒和催办邮件")
    remind_before_working_days = IntegerField("截止前几个工作日提醒", validators=[REQUIRED, NumberRange(0, 30, "应在 0 到 30 之间")])
    remind_on_due_date = BooleanField("截止当天再提醒一次")
    chase_every_working_days = IntegerField("逾期后每隔几个工作日催办", validators=[REQUIRED, NumberRange(1, 20, "应在 1 到 20 之间")])
    copy_lead_after_working_days = IntegerField("逾期几个工作日起抄送牵头单位", validators=[REQUIRED, NumberRange(1, 60, "应在 1 到 60 之间")])
    copy_office_after_working_days = IntegerField("逾期几个工作日起抄送办公室和统筹单位", validators=[REQUIRED, NumberRange(1, 60, "应在 1 到 60 之间")])
    send_window_start = TimeField("发送时段开始（北京时间）", validators=[InputRequired(message="请填写时间，如 08:30")])
    send_window_end = TimeField("发送时段结束（北京时间）", validators=[InputRequired(message="请填写时间，如 17:30")])
    dead_after_working_days = IntegerField("连续失败几个工作日后停止重试", validators=[REQUIRED, NumberRange(1, 30, "应在 1 到 30 之间")])


class OverrideForm(FlaskForm):
    day = DateField("日期", validators=[DataRequired(message="请选择日期")])
    kind = RadioField("这一天", choices=[SelectChoice("work", "上班（调休）"), SelectChoice("rest", "休息")], default="rest",
                      validators=[DataRequired(message="请选择上班或休息")])
    note = StringField("说明", validators=[Length(max=120, message="说明不能超过 120 个字")],
                       description="如：2027年春节调休")


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (resend, resume, remove)."""

    token = HiddenField()
