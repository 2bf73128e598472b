"""Form field rules for the plan pages."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import Optional, Regexp

SLUG_RULE = Regexp(r"^[a-z0-9][a-z0-9-]{0,79}$", message="标识只能由小写字母、数字和连字符组成，且以字母或数字开头")


class ImportForm(FlaskForm):
    document = FileField("计划文件", validators=[
        FileRequired(message="请选择要上传的计划文件"),
        FileAllowed(["txt", "docx"], message="只接受 .txt（UTF-8 或 GB18030 编码）或 .docx 文件")],
        description="从 PDF 转出的文本、原始 .docx 均可；分页断句、加粗符号、全半角括号会自动修复。")
    slug = StringField("计划标识", validators=[Optional(), SLUG_RULE],
                       description="用于链接和命令行的英文标识，如 hohhot-energy-saving；留空则按文件名生成。")


class ConfirmImportForm(FlaskForm):
    upload = HiddenField(validators=[Regexp(r"^[0-9a-f]{64}$", message="上传的文件已失效，请重新上传")])
    slug = HiddenField(validators=[SLUG_RULE])
    filename = HiddenField()
