"""Form field rules for drafting a briefing; the choices are filled by the route from a service."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from tracker.briefings.services.assembly import evaluation_label
from tracker.briefings.services.drafts import MAX_FREE_TEXT_CHARS, MAX_TITLE_CHARS, Draft
from tracker.reporting.forms import DayField, Filled


def _id_or_none(value):
    """An id, or None for blank or garbage; -1 (an id no row has) for a number beyond a database integer, which
    would overflow the database driver (a 500)."""
    try:
        number = int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or -2**31 <= number < 2**31 else -1


class BriefingForm(FlaskForm):
    round_id = SelectField("通报的调度", coerce=_id_or_none, validate_choice=False,
                           description="通报这次调度中各项任务的进展、红黄绿灯和报送情况。")
    evaluation_id = SelectField("能耗强度评价（可选）", coerce=_id_or_none, validate_choice=False,
                                description="选择后，通报中增加各地区能耗强度排名和评价等次。")
    title = StringField("标题", validators=[Length(max=MAX_TITLE_CHARS, message=f"标题不能超过 {MAX_TITLE_CHARS} 个字")])
    issue_date = DayField("印发日期", validators=[Filled("请填写印发日期")],
                          description="通报按这一天的情况统计（逾期、红黄绿灯），编号按这一年的顺序给出。")
    opening = TextAreaField("开头语", validators=[Optional(), Length(max=MAX_FREE_TEXT_CHARS)],
                            description="不填则使用默认开头语。每行一段；输入的内容按纯文本排版。")
    problems = TextAreaField("存在问题", validators=[Optional(), Length(max=MAX_FREE_TEXT_CHARS)],
                             description="每行一段；不填则通报中不列这一部分。")
    next_steps = TextAreaField("下步工作", validators=[Optional(), Length(max=MAX_FREE_TEXT_CHARS)],
                               description="每行一段；不填则通报中不列这一部分。")

    def offer(self, rounds, evaluations) -> None:
        self.round_id.choices = [SelectChoice(r.id, f"{r.label}（{r.plan.title}）") for r in rounds]
        self.evaluation_id.choices = [SelectChoice(None, "不附评价结果")] + [
            SelectChoice(e.id, f"{evaluation_label(e)}（{e.status.label}）") for e in evaluations]

    def fill(self, draft: Draft) -> None:
        self.round_id.data, self.evaluation_id.data = draft.round_id, draft.evaluation_id
        self.title.data, self.issue_date.data = draft.title, draft.issue_date
        self.opening.data, self.problems.data, self.next_steps.data = draft.opening, draft.problems, draft.next_steps

    def draft(self) -> Draft:
        return Draft(round_id=self.round_id.data, evaluation_id=self.evaluation_id.data, title=self.title.data or "",
                     issue_date=self.issue_date.data, opening=self.opening.data or "",
                     problems=self.problems.data or "", next_steps=self.next_steps.data or "")
