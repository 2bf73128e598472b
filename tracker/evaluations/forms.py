"""Form field rules for the evaluation pages. The grids' cells are read by name; their rules are the services'."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from tracker.evaluations.models import EvaluationKind, PathShape
from tracker.evaluations.services.rules import PATH_LABELS
from tracker.reporting.forms import Filled, WholeNumberField


class ActionForm(FlaskForm):
    """A button or a grid: only the CSRF token is checked here."""


class CreateEvaluationForm(FlaskForm):
    plan = SelectField("计划", validators=[DataRequired(message="请选择计划")],
                       invalid_choice_message="请从列表中选择计划")
    kind = SelectField("评价类型", choices=[SelectChoice(k.value, k.label) for k in EvaluationKind],
                       validators=[DataRequired(message="请选择评价类型")],
                       invalid_choice_message="请从列表中选择评价类型")
    year = WholeNumberField("评价年度", validators=[Filled("请填写评价年度")],
                            description="年度评价为规划期内任一年；中期评估为规划中间年份（2023）；五年考核为规划末年（2025）。")

    def offer_plans(self, plans) -> None:
        self.plan.choices = [SelectChoice(plan.slug, plan.title) for plan in plans]


class UploadForm(FlaskForm):
    file = FileField("数据文件", validators=[
        FileRequired(message="请选择要导入的文件"),
        FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv 文件")],
        description=".xlsx 或 .csv（UTF-8 或 GB18030 编码）；全部无误才写入，有误时逐行列出问题。")


class RulesForm(FlaskForm):
    path_shape = SelectField("序时进度的计算方式", choices=[SelectChoice(s.value, PATH_LABELS[s]) for s in PathShape],
                             invalid_choice_message="请从列表中选择")
    target_points = StringField("达到序时进度的目标得分", description="默认 40。")
    bonus_per_step = StringField("超过序时进度每满 10% 的加分", description="默认 3。")
    bonus_cap = StringField("加分上限", description="默认 9。")
    min_share = StringField("完成系数 c 低于此值时目标得分为 0", description="默认 0.5。")
    measures_points = StringField("节能措施满分", description="默认 60。")
    band_excellent = StringField("“超额完成”的最低总分", description="默认 95。")
    band_complete = StringField("“完成”的最低总分", description="默认 80。")
    band_basic = StringField("“基本完成”的最低总分", description="默认 60；低于此分为“未完成”。")
    is_veto_enabled = BooleanField("未达到序时进度的地区一票否决（等级为“未完成”）")
    weight_on_time = StringField("任务评价：按时报送率的权重", description="默认 0.4。")
    weight_targets = StringField("任务评价：目标达成率的权重", description="默认 0.4。")
    weight_status = StringField("任务评价：推进状态的权重", description="默认 0.2。")
    task_band_excellent = StringField("任务“优秀”的最低分", description="默认 90。")
    task_band_good = StringField("任务“良好”的最低分", description="默认 75。")
    task_band_pass = StringField("任务“合格”的最低分", description="默认 60；低于此分为“不合格”。")
    note = TextAreaField("修改说明", validators=[Length(max=500, message="修改说明不能超过 500 个字")],
                         description="写明为什么修改，会记入规则版本和审计日志。")
