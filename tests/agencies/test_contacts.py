"""Unit contacts: kept on the unit page, and imported all-or-nothing from .csv or .xlsx."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies import contacts
from tracker.agencies.contacts import ContactFields
from tracker.agencies.models import Contact, UnitAlias
from tracker.audit.models import AuditEvent
from tracker.errors import Invalid, InvalidFile, PermissionDenied
from tests.agencies.conftest import text_of
from tests.conftest import NOW


@pytest.fixture
def units(session, make_unit):
    """Three units; 市发展改革委 is also written 发展和改革委员会."""
    fgw, sthjj, tjj = make_unit("市发展改革委"), make_unit("市生态环境局"), make_unit("市统计局")
    session.add(UnitAlias(unit_id=fgw.id, alias="发展和改革委员会"))
    session.flush()
    return fgw, sthjj, tjj


def contacts_of(session, unit) -> list[tuple[str, str, str | None]]:
    rows = session.exec(select(Contact).where(Contact.unit_id == unit.id).order_by(Contact.email)).all()
    return [(c.name, c.email, c.phone) for c in rows]


def add(session, unit, name, email, phone=None):
    session.add(Contact(unit_id=unit.id, name=name, email=email, phone=phone, updated_dt=NOW))
    session.flush()


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def import_file(session, data, filename="contacts.csv"):
    return contacts.import_contacts(session, data, filename=filename, actor=COMMAND_LINE, now=NOW)


# --- one at a time --------------------------------------------------------------------------------

def test_a_contact_is_added_changed_and_removed_with_an_audit_entry_each(session, units):
    fgw = units[0]
    contact = contacts.add_contact(session, fgw, fields=ContactFields(name=" 张伟 ", email="ZhangWei@Example.gov.cn"),
                                   actor=COMMAND_LINE, now=NOW)
    assert contacts_of(session, fgw) == [("张伟", "zhangwei@example.gov.cn", None)]
    contact = contacts.get_contact(session, fgw.id, contact.id)
    contacts.update_contact(session, contact, fields=ContactFields(name="张伟", email="zw@example.gov.cn",
                                                                   phone="0471-6600000"), actor=COMMAND_LINE, now=NOW)
    assert contacts_of(session, fgw) == [("张伟", "zw@example.gov.cn", "0471-6600000")]
    contacts.remove_contact(session, contact, actor=COMMAND_LINE, now=NOW)
    assert contacts_of(session, fgw) == []
    assert [e.action for e in session.exec(select(AuditEvent))] == ["unit.updated"] * 3


def test_a_contact_with_a_bad_email_or_one_the_unit_already_has_is_refused_on_the_email_field(session, units):
    fgw = units[0]
    add(session, fgw, "李娜", "lina@example.gov.cn")
    for email, message in (("not-an-email", "请填写有效的电子邮箱地址"),
                           ("LiNa@example.gov.cn", "本单位已有使用这个邮箱的联系人")):
        with pytest.raises(Invalid) as refused:
            contacts.add_contact(session, fgw, fields=ContactFields(name="王芳", email=email),
                                 actor=COMMAND_LINE, now=NOW)
        assert refused.value.field == "email" and refused.value.message == message


def test_only_the_office_keeps_contacts(session, units, make_user):
    actor = make_user(UserRole.coordinator)
    with pytest.raises(PermissionDenied):
        contacts.add_contact(session, units[0], fields=ContactFields(name="王芳", email="wf@example.gov.cn"),
                             actor=actor, now=NOW)
    with pytest.raises(PermissionDenied):
        contacts.import_contacts(session, csv_bytes("单位,姓名,电子邮箱\n市统计局,王芳,wf@example.gov.cn\n"),
                                 filename="a.csv", actor=actor, now=NOW)
    assert session.exec(select(Contact)).first() is None


# --- importing ------------------------------------------------------------------------------------

GOOD_CSV = """单位,姓名,电子邮箱,电话
市发展改革委,张伟,zhangwei@example.gov.cn,0471-6600001
发展和改革委员会,李娜,lina@example.gov.cn,
市生态环境局,王芳,wangfang@example.gov.cn,13800000000
"""


def test_a_good_csv_in_gb18030_is_imported_with_units_found_by_name_or_alias(session, units):
    fgw, sthjj, tjj = units
    result = import_file(session, csv_bytes(GOOD_CSV, "gb18030"))
    assert (result.unit_count, result.added, result.updated, result.removed) == (2, 3, 0, 0)
    assert contacts_of(session, fgw) == [("李娜", "lina@example.gov.cn", None),
                                         ("张伟", "zhangwei@example.gov.cn", "0471-6600001")]
    assert contacts_of(session, sthjj) == [("王芳", "wangfang@example.gov.cn", "13800000000")]
    event = session.exec(select(AuditEvent)).one()
    assert event.action == "contacts.imported" and "新增 3 人" in event.summary


def test_a_csv_in_utf8_with_a_bom_and_english_headers_in_another_order_is_imported(session, units):
    data = "\ufeffemail,phone,name,unit\nzw@example.gov.cn,,张伟,市统计局\n".encode("utf-8")
    assert import_file(session, data).added == 1
    assert contacts_of(session, units[2]) == [("张伟", "zw@example.gov.cn", None)]


def test_the_header_may_say_邮箱_and_leave_out_the_phone_column(session, units):
    assert import_file(session, csv_bytes("单位,姓名,邮箱\n市统计局,赵强,zq@example.gov.cn\n")).added == 1


def test_a_good_xlsx_is_imported(session, units):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["单位", "姓名", "电子邮箱", "电话"])
    sheet.append(["市统计局", "陈静", "chenjing@example.gov.cn", 13912345678])
    sheet.append([None, None, None, None])
    sheet.append(["发展和改革委员会", "周杰", "zhoujie@example.gov.cn", "0471-6600002"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_file(session, buffer.getvalue(), "联系人.xlsx")
    assert (result.unit_count, result.added) == (2, 2)
    assert contacts_of(session, units[2]) == [("陈静", "chenjing@example.gov.cn", "13912345678")]
    assert contacts_of(session, units[0]) == [("周杰", "zhoujie@example.gov.cn", "0471-6600002")]


def test_each_unit_in_the_file_gets_exactly_the_files_contacts_and_other_units_are_untouched(session, units):
    fgw, sthjj, tjj = units
    add(session, fgw, "张伟", "zhangwei@example.gov.cn", "旧电话")
    add(session, fgw, "离职人员", "gone@example.gov.cn")
    add(session, fgw, "李娜", "lina@example.gov.cn")
    add(session, tjj, "统计局联系人", "tjj@example.gov.cn")
    result = import_file(session, csv_bytes(GOOD_CSV))
    assert (result.added, result.updated, result.removed, result.unchanged) == (1, 1, 1, 1)
    assert contacts_of(session, fgw) == [("李娜", "lina@example.gov.cn", None),
                                         ("张伟", "zhangwei@example.gov.cn", "0471-6600001")]
    assert contacts_of(session, tjj) == [("统计局联系人", "tjj@example.gov.cn", None)]
    assert "删除 1 人" in result.summary()


def test_importing_the_same_file_twice_changes_nothing_the_second_time(session, units):
    import_file(session, csv_bytes(GOOD_CSV))
    again = import_file(session, csv_bytes(GOOD_CSV))
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)


def test_a_file_with_three_bad_lines_names_all_three_and_writes_nothing(session, units):
    fgw = units[0]
    add(session, fgw, "原有联系人", "old@example.gov.cn")
    data = csv_bytes("""单位,姓名,电子邮箱,电话
市发展改革委,张伟,zhangwei@example.gov.cn,
市不存在局,李娜,lina@example.gov.cn,
市生态环境局,,wangfang@example.gov.cn,
市统计局,赵强,not-an-email,
发展和改革委员会,张伟二号,ZhangWei@example.gov.cn,
""")
    with pytest.raises(InvalidFile) as refused:
        import_file(session, data)
    problems = refused.value.problems
    assert [line for line, _ in problems] == [3, 4, 5, 6]
    messages = dict(problems)
    assert "市不存在局" in messages[3] and "不在单位目录中" in messages[3]
    assert "缺少联系人姓名" in messages[4]
    assert "not-an-email" in messages[5] and "格式不正确" in messages[5]
    assert "与第 2 行重复" in messages[6]
    assert "第 3 行：" in str(refused.value)
    assert contacts_of(session, fgw) == [("原有联系人", "old@example.gov.cn", None)]
    assert session.exec(select(AuditEvent)).first() is None


def test_every_problem_of_one_line_is_listed(session, units):
    with pytest.raises(InvalidFile) as refused:
        import_file(session, csv_bytes("单位,姓名,电子邮箱\n,,\u3000x\n"))
    assert [line for line, _ in refused.value.problems] == [2, 2, 2]


def test_a_file_without_the_header_row_is_refused_on_line_1(session, units):
    with pytest.raises(InvalidFile) as refused:
        import_file(session, csv_bytes("市统计局,赵强,zq@example.gov.cn\n"))
    assert refused.value.problems[0][0] == 1 and "缺少表头" in refused.value.problems[0][1]


@pytest.mark.parametrize("data, filename, message", [
    (b"", "empty.csv", "没有内容"),
    ("单位,姓名,电子邮箱\n".encode(), "header-only.csv", "只有表头"),
    (b"PK\x03\x04 not really a workbook", "broken.xlsx", "无法读取"),
    (b"\xd0\xcf\x11\xe0", "old.xls", "只接受 .xlsx 或 .csv"),
    (b"\x81\x30", "odd.csv", "编码无法识别"),
])
def test_a_file_that_cannot_be_read_is_refused_in_chinese(session, units, data, filename, message):
    with pytest.raises(InvalidFile) as refused:
        import_file(session, data, filename)
    assert message in str(refused.value)


# --- the command line -----------------------------------------------------------------------------

def test_the_contacts_import_command_prints_a_summary_and_exits_zero(runner, session, units, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(GOOD_CSV, "gb18030"))
    result = runner.invoke(args=["contacts", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "涉及 2 个单位，新增 3 人" in result.stdout
    assert len(session.exec(select(Contact)).all()) == 3


def test_the_contacts_import_command_lists_every_bad_line_on_stderr_and_exits_one(runner, session, units,
                                                                                tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("单位,姓名,电子邮箱\n市不存在局,李娜,lina@example.gov.cn\n市统计局,,x@example.gov.cn\n"
                               "市统计局,赵强,bad\n"))
    result = runner.invoke(args=["contacts", "import", str(path)])
    assert result.exit_code == 1
    for line in (2, 3, 4):
        assert f"第 {line} 行：" in result.stderr
    assert "第 2 行" not in result.stdout
    assert session.exec(select(Contact)).first() is None


# --- pages ----------------------------------------------------------------------------------------

@pytest.fixture
def office(auth):
    return auth.login_as(UserRole.office)


def upload(client, data, filename):
    return client.post("/units/contacts/import", data={"document": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_the_unit_page_shows_its_contacts_and_the_office_adds_edits_and_removes_them_there(client, session, office,
                                                                                          units):
    fgw = units[0]
    add(session, fgw, "张伟", "zhangwei@example.gov.cn", "0471-6600001")
    page = client.get(f"/units/{fgw.id}").get_data(as_text=True)
    assert "张伟" in page and "zhangwei@example.gov.cn" in page and "添加联系人" in page
    assert client.post(f"/units/{fgw.id}/contacts/new", data={"name": "李娜", "email": "lina@example.gov.cn",
                                                              "phone": ""}).status_code == 302
    contact = session.exec(select(Contact).where(Contact.name == "李娜")).one()
    assert 'value="lina@example.gov.cn"' in client.get(f"/units/{fgw.id}/contacts/{contact.id}").get_data(as_text=True)
    assert client.post(f"/units/{fgw.id}/contacts/{contact.id}", data={
        "name": "李娜", "email": "lina2@example.gov.cn", "phone": "123", "unit_id": str(units[1].id)}).status_code == 302
    session.refresh(contact)
    assert (contact.email, contact.phone, contact.unit_id) == ("lina2@example.gov.cn", "123", fgw.id)
    assert client.post(f"/units/{fgw.id}/contacts/{contact.id}/delete").status_code == 302
    assert [c[0] for c in contacts_of(session, fgw)] == ["张伟"]


def test_a_wrong_contact_form_is_shown_again_in_chinese_with_what_was_typed(client, session, office, units):
    fgw = units[0]
    add(session, fgw, "张伟", "zhangwei@example.gov.cn")
    for data, message in (({"name": "王芳", "email": "wangfang@"}, "请填写有效的电子邮箱地址"),
                          ({"name": "", "email": "wf@example.gov.cn"}, "请填写联系人姓名"),
                          ({"name": "王芳", "email": "ZHANGWEI@example.gov.cn"}, "本单位已有使用这个邮箱的联系人")):
        response = client.post(f"/units/{fgw.id}/contacts/new", data=data)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page and f'value="{data["email"]}"' in page
    assert len(contacts_of(session, fgw)) == 1


def test_a_contact_of_another_unit_answers_404(client, session, office, units):
    add(session, units[0], "张伟", "zhangwei@example.gov.cn")
    contact = session.exec(select(Contact)).one()
    assert client.get(f"/units/{units[1].id}/contacts/{contact.id}").status_code == 404
    assert client.post(f"/units/{units[1].id}/contacts/{contact.id}/delete").status_code == 404
    assert len(session.exec(select(Contact)).all()) == 1


def test_other_users_see_the_contacts_but_no_controls_and_get_403_on_changes(client, session, auth, units):
    fgw = units[0]
    add(session, fgw, "张伟", "zhangwei@example.gov.cn")
    contact = session.exec(select(Contact)).one()
    auth.login_as(UserRole.unit, unit=fgw)
    page = client.get(f"/units/{fgw.id}").get_data(as_text=True)
    assert "zhangwei@example.gov.cn" in page and "添加联系人" not in page and "/delete" not in page
    assert client.post(f"/units/{fgw.id}/contacts/new", data={"name": "x", "email": "x@example.gov.cn"}
                       ).status_code == 403
    assert client.post(f"/units/{fgw.id}/contacts/{contact.id}/delete").status_code == 403
    assert upload(client, csv_bytes(GOOD_CSV), "c.csv").status_code == 403
    assert contacts_of(session, fgw) == [("张伟", "zhangwei@example.gov.cn", None)]


def test_uploading_a_good_file_imports_it_and_says_what_changed(client, session, office, units):
    response = upload(client, csv_bytes(GOOD_CSV, "gb18030"), "联系人.csv")
    assert response.status_code == 302
    assert "新增 3 人" in text_of(client.get(response.headers["Location"]))
    assert len(session.exec(select(Contact)).all()) == 3


def test_uploading_a_bad_file_lists_every_bad_line_and_writes_nothing(client, session, office, units):
    data = csv_bytes("单位,姓名,电子邮箱\n市不存在局,李娜,lina@example.gov.cn\n市统计局,,x@example.gov.cn\n"
                     "市统计局,赵强,bad\n")
    response = upload(client, data, "bad.csv")
    assert response.status_code == 422
    page = text_of(response)
    assert "第 2 行：" in page and "第 3 行：" in page and "第 4 行：" in page and "共 3 处" in page
    assert session.exec(select(Contact)).first() is None


def test_uploading_a_file_of_another_type_is_refused_in_chinese(client, office, units):
    response = upload(client, b"%PDF-1.4", "contacts.pdf")
    assert response.status_code == 422 and "只接受 .xlsx 或 .csv" in response.get_data(as_text=True)
