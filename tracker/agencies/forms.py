"""Form field rules for the units directory: units, aliases, groups, contacts and the contacts import."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.agencies.models import UNIT_KIND_LABELS

KIND_CHOICES = [SelectChoice(kind.value, label) for kind, label in UNIT_KIND_LABELS.items()]
EMAIL_RULE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="请填写有效的电子邮箱地址")


def int_or_none(value):
    """Coerce a submitted id; anything else becomes None (the service refuses it in Chinese).

    A number beyond a database integer becomes -1, an id no row has (binding it would overflow the driver: a 500).
    """
    if value in ("", None):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -2**31 <= number < 2**31 else -1


class UnitForm(FlaskForm):
    name = StringField("单位名称", validators=[
        DataRequired(message="请填写单位名称"), Length(max=120, message="单位名称不能超过 120 个字符")],
        description="计划文件中使用的名称，如“市发展改革委”；不能与其他单位的名称或简称重复。")
    full_name = StringField("全称", validators=[Optional(), Length(max=200, message="全称不能超过 200 个字符")],
                            description="如“呼和浩特市发展和改革委员会”；填写后也作为简称/全称用于识别。")
    kind = SelectField("类别", choices=KIND_CHOICES, validate_choice=False, validators=[
        DataRequired(message="请选择单位类别"),
        AnyOf([choice.value for choice in KIND_CHOICES], message="请从列表中选择单位类别")])
    code = StringField("代码", validators=[
        Optional(), Length(max=40, message="代码不能超过 40 个字符"),
        Regexp(r"^[a-z0-9][a-z0-9_-]*$", message="代码只能由小写字母、数字、下划线和连字符组成")],
        description="可不填；英文小写简写，如 fgw。")
    #: the choices are filled in by the route; the service checks the parent exists and is not a subordinate
    parent_id = SelectField("上级单位", coerce=int_or_none, validate_choice=False)


class AliasForm(FlaskForm):
    alias = StringField("简称或全称", validators=[
        DataRequired(message="请填写简称或全称"), Length(max=200, message="简称或全称不能超过 200 个字符")])


class SetActiveForm(FlaskForm):
    """停用 / 启用: the wanted state travels in a hidden field."""

    is_active = HiddenField(validators=[AnyOf(["0", "1"], message="操作无效，请刷新页面后重试")])


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (删除)."""


class GroupMembersForm(FlaskForm):
    #: the choices (every unit) are filled in by the route; the service checks each id
    unit_ids = SelectMultipleField("成员单位", coerce=int_or_none, validate_choice=False,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class ContactForm(FlaskForm):
    name = StringField("姓名", validators=[
        DataRequired(message="请填写联系人姓名"), Length(max=80, message="姓名不能超过 80 个字符")])
    email = EmailField("电子邮箱", validators=[
        DataRequired(message="请填写电子邮箱"), Length(max=200, message="电子邮箱不能超过 200 个字符"), EMAIL_RULE],
        description="催办和提醒邮件发到这里。")
    phone = StringField("电话", validators=[Optional(), Length(max=40, message="电话不能超过 40 个字符")])


class ContactsImportForm(FlaskForm):
    document = FileField("联系人文件", validators=[
        FileRequired(message="请选择要上传的联系人文件"),
        FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv（UTF-8 或 GB18030 编码）文件")],
        description="第一行为表头：单位,姓名,电子邮箱,电话（或 unit,name,email,phone）。")
