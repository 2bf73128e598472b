"""Form field rules for the office's user pages: an explicit list of fields, nothing else is read."""
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional, Regexp

from tracker.accounts.models import UserRole

ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in UserRole]
EMAIL_RULE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="请填写有效的电子邮箱地址")


def int_or_none(value):
    """Coerce a select's value to an id; anything else becomes None (the service refuses it in Chinese).

    An id beyond a database integer is no id: binding it would overflow the database driver (a 500).
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -2**31 <= number < 2**31 else None


class UserForm(FlaskForm):
    """What the office may change on a user: name, unit, role, email, phone."""

    display_name = StringField("姓名", validators=[
        DataRequired(message="请填写姓名"), Length(max=80, message="姓名不能超过 80 个字符")])
    #: the service checks that the unit exists; the choices are filled in by the route
    unit_id = SelectField("所属单位", coerce=int_or_none, validate_choice=False,
                          validators=[DataRequired(message="请选择所属单位")])
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False, validators=[
        DataRequired(message="请选择角色"),
        AnyOf([choice.value for choice in ROLE_CHOICES], message="请从列表中选择角色")])
    email = EmailField("电子邮箱", validators=[
        DataRequired(message="请填写电子邮箱"), Length(max=200, message="电子邮箱不能超过 200 个字符"), EMAIL_RULE])
    phone = StringField("电话", validators=[Optional(), Length(max=40, message="电话不能超过 40 个字符")])


class NewUserForm(UserForm):
    username = StringField("用户名", validators=[
        DataRequired(message="请填写用户名"), Length(max=64, message="用户名不能超过 64 个字符")],
        description="登录用，小写字母、数字和 . _ -，创建后不能修改。")
    password = PasswordField("初始密码", validators=[DataRequired(message="请填写初始密码")],
                             description="至少 8 个字符；请当面或电话告知本人，并提醒其登录后修改。")
    confirm = PasswordField("再次输入初始密码", validators=[
        DataRequired(message="请再次输入初始密码"), EqualTo("password", message="两次输入的密码不一致")])


class SetActiveForm(FlaskForm):
    """停用 / 启用: the wanted state travels in a hidden field."""

    is_active = HiddenField(validators=[AnyOf(["0", "1"], message="操作无效，请刷新页面后重试")])


class ResetPasswordForm(FlaskForm):
    #: named `password` like the service's Invalid field, so a weak password is shown on this field
    password = PasswordField("新密码", validators=[DataRequired(message="请填写新密码")],
                             description="至少 8 个字符；重置后该用户的所有登录都会退出。")
    confirm = PasswordField("再次输入新密码", validators=[
        DataRequired(message="请再次输入新密码"), EqualTo("password", message="两次输入的新密码不一致")])
