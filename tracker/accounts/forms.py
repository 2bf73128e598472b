"""Form field rules for logging in and for passwords."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(message="请填写用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(message="请填写密码"), Length(max=128)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("当前密码", validators=[DataRequired(message="请填写当前密码")])
    new_password = PasswordField("新密码", validators=[DataRequired(message="请填写新密码")],
                                 description="至少 8 个字符；不要用常见密码或与用户名相同的密码。")
    confirm = PasswordField("再次输入新密码", validators=[
        DataRequired(message="请再次输入新密码"), EqualTo("new_password", message="两次输入的新密码不一致")])


class TokenForm(FlaskForm):
    name = StringField("用途", validators=[DataRequired(message="请填写令牌用途"), Length(max=60, message="不超过 60 个字")],
                       description="写明哪个系统用这个令牌，如“统计局数据对接”。令牌与您的账号权限完全相同。")


class RevokeForm(FlaskForm):
    """A bare POST carrying its CSRF token."""
