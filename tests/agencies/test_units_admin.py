"""The office keeps the units directory: units, aliases, active state and listed groups."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tracker.accounts.models import UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies import edits, services
from tracker.agencies.models import GroupMembership, Unit, UnitAlias, UnitGroupMember, UnitKind
from tracker.agencies.edits import UnitFields
from tracker.agencies.services import NameResolver
from tracker.audit.models import AuditEvent
from tracker.errors import Conflict, Invalid, PermissionDenied
from tests.agencies.conftest import text_of
from tests.conftest import NOW


def aliases_of(session, unit) -> list[str]:
    return sorted(session.exec(select(UnitAlias.alias).where(UnitAlias.unit_id == unit.id)).all())


def members_of(session, group) -> list[int]:
    return sorted(session.exec(select(UnitGroupMember.unit_id).where(UnitGroupMember.group_id == group.id)).all())


def last_event(session) -> AuditEvent:
    return session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


# --- services -------------------------------------------------------------------------------------

def test_creating_a_unit_records_its_full_name_as_an_alias_and_audits_it(session):
    unit = edits.create_unit(session, fields=UnitFields(name="市发展改革委", kind=UnitKind.department,
                                                           full_name="呼和浩特市发展和改革委员会", code="FGW"),
                                actor=COMMAND_LINE, now=NOW)
    assert (unit.name, unit.code, unit.is_active, unit.is_in_directory) == ("市发展改革委", "fgw", True, True)
    assert aliases_of(session, unit) == ["呼和浩特市发展和改革委员会"]
    assert NameResolver.load(session).unit("呼和浩特市发展和改革委员会").id == unit.id
    assert (last_event(session).action, last_event(session).actor_name) == ("unit.created", "命令行")


@pytest.mark.parametrize("name", ["市生态环境局", "生态环境局"])
def test_a_name_already_used_as_a_name_or_an_alias_is_refused_on_the_name_field(session, make_unit, name):
    unit = make_unit("市生态环境局")
    session.add(UnitAlias(unit_id=unit.id, alias="生态环境局"))
    session.flush()
    with pytest.raises(Invalid) as refused:
        edits.create_unit(session, fields=UnitFields(name=name, kind=UnitKind.department),
                             actor=COMMAND_LINE, now=NOW)
    assert refused.value.field == "name" and "市生态环境局" in refused.value.message


def test_a_blank_name_a_taken_code_and_a_taken_full_name_are_refused_in_chinese(session, make_unit):
    make_unit("市水务局", code="slj")
    cases = [(UnitFields(name="  ", kind=UnitKind.department), "name", "请填写单位名称"),
             (UnitFields(name="市林草局", kind=UnitKind.department, code="slj"), "code", "已被单位“市水务局”使用"),
             (UnitFields(name="市林草局", kind=UnitKind.department, code="林草"), "code", "代码只能由"),
             (UnitFields(name="市林草局", kind=UnitKind.department, full_name="市水务局"), "full_name", "不能重复")]
    for fields, field, message in cases:
        with pytest.raises(Invalid) as refused:
            edits.create_unit(session, fields=fields, actor=COMMAND_LINE, now=NOW)
        assert refused.value.field == field and message in refused.value.message


def test_renaming_a_unit_keeps_the_old_name_as_an_alias(session, make_unit):
    unit = make_unit("市环保局")
    edits.update_unit(session, unit, fields=UnitFields(name="市生态环境局", kind=UnitKind.department),
                         actor=COMMAND_LINE, now=NOW)
    assert unit.name == "市生态环境局" and aliases_of(session, unit) == ["市环保局"]
    assert last_event(session).action == "unit.updated" and "市环保局" in last_event(session).summary


def test_renaming_a_unit_to_one_of_its_aliases_turns_that_alias_into_the_name(session, make_unit):
    unit = make_unit("和林县", kind=UnitKind.area)
    session.add(UnitAlias(unit_id=unit.id, alias="和林格尔县"))
    session.flush()
    edits.update_unit(session, unit, fields=UnitFields(name="和林格尔县", kind=UnitKind.area),
                         actor=COMMAND_LINE, now=NOW)
    assert unit.name == "和林格尔县" and aliases_of(session, unit) == ["和林县"]


def test_a_unit_cannot_be_its_own_parent_nor_its_subordinates_subordinate(session, make_unit):
    city = make_unit("市政府", kind=UnitKind.government)
    office = make_unit("市政府办公室", parent_id=city.id)
    for parent in (city, office):
        with pytest.raises(Invalid) as refused:
            edits.update_unit(session, city, fields=UnitFields(name="市政府", kind=UnitKind.government,
                                                                  parent_id=parent.id), actor=COMMAND_LINE, now=NOW)
        assert refused.value.field == "parent_id"


def test_aliases_are_added_and_removed_and_a_duplicate_is_refused_on_the_alias_field(session, make_unit):
    unit, other = make_unit("市市场监管局"), make_unit("市税务局")
    entry = edits.add_alias(session, unit, alias=" 市场监督管理局 ", actor=COMMAND_LINE, now=NOW)
    assert aliases_of(session, unit) == ["市场监督管理局"]
    for taken in ("市场监督管理局", "市税务局", "市市场监管局"):
        with pytest.raises(Invalid) as refused:
            edits.add_alias(session, other, alias=taken, actor=COMMAND_LINE, now=NOW)
        message = refused.value.message
        assert refused.value.field == "alias" and ("不能重复" in message or "已是本单位" in message)
    edits.remove_alias(session, unit, alias_id=entry.id, actor=COMMAND_LINE, now=NOW)
    assert aliases_of(session, unit) == []
    assert [e.action for e in session.exec(select(AuditEvent))] == ["unit.updated", "unit.updated"]


def test_a_deactivated_unit_drops_out_of_its_groups_and_comes_back_when_reactivated(session, make_unit, make_group):
    first, second = make_unit(), make_unit()
    group = make_group("各测试部门", [first, second])
    edits.set_unit_active(session, first, is_active=False, actor=COMMAND_LINE, now=NOW)
    assert services.group_member_ids(session, [group], plan_department_ids=set()) == {group.id: [second.id]}
    edits.set_unit_active(session, first, is_active=True, actor=COMMAND_LINE, now=NOW)
    assert services.group_member_ids(session, [group], plan_department_ids=set()) == {group.id: [first.id, second.id]}


def test_a_listed_groups_members_become_exactly_the_chosen_units(session, make_unit, make_group):
    a, b, c = make_unit(), make_unit(), make_unit()
    group = edits.get_group(session, make_group("各旗县区", [a, b]).id)
    edits.set_group_members(session, group, unit_ids=[b.id, c.id], actor=COMMAND_LINE, now=NOW)
    assert members_of(session, group) == sorted([b.id, c.id])
    event = last_event(session)
    assert event.action == "group.updated" and "增加 1 个，移除 1 个" in event.summary
    assert event.details == {"added": [c.name], "removed": [a.name]}


def test_a_computed_group_cannot_be_edited_and_an_unknown_unit_is_refused(session, make_unit, make_group):
    computed = edits.get_group(session, make_group("各有关部门", membership=GroupMembership.plan_departments).id)
    with pytest.raises(Conflict):
        edits.set_group_members(session, computed, unit_ids=[], actor=COMMAND_LINE, now=NOW)
    listed = edits.get_group(session, make_group("各园区").id)
    with pytest.raises(Invalid) as refused:
        edits.set_group_members(session, listed, unit_ids=[999999], actor=COMMAND_LINE, now=NOW)
    assert refused.value.field == "unit_ids"


def test_only_the_office_changes_the_directory(session, make_user, make_unit, make_group):
    unit = make_unit("市统计局")
    group = edits.get_group(session, make_group("各部门", [unit]).id)
    for role in (UserRole.coordinator, UserRole.unit, UserRole.leader):
        actor = make_user(role)
        calls = [lambda: edits.create_unit(session, fields=UnitFields(name="新单位", kind=UnitKind.other),
                                              actor=actor, now=NOW),
                 lambda: edits.update_unit(session, unit, fields=UnitFields(name="改名", kind=UnitKind.other),
                                              actor=actor, now=NOW),
                 lambda: edits.add_alias(session, unit, alias="统计局", actor=actor, now=NOW),
                 lambda: edits.set_unit_active(session, unit, is_active=False, actor=actor, now=NOW),
                 lambda: edits.set_group_members(session, group, unit_ids=[], actor=actor, now=NOW)]
        for call in calls:
            with pytest.raises(PermissionDenied):
                call()
    assert unit.name == "市统计局" and unit.is_active and members_of(session, group) == [unit.id]


# --- pages ----------------------------------------------------------------------------------------

@pytest.fixture
def office(auth):
    return auth.login_as(UserRole.office)


def test_everyone_sees_the_unit_list_but_only_the_office_sees_the_edit_controls(client, auth, make_unit,
                                                                                make_group):
    unit = make_unit("市交通运输局")
    make_group("各有关单位", [unit])
    auth.login_as(UserRole.unit)
    page = client.get("/units").get_data(as_text=True)
    assert "市交通运输局" in page
    assert "新建单位" not in page and "编辑成员" not in page and f"/units/{unit.id}/edit" not in page
    auth.login_as(UserRole.office)
    page = client.get("/units").get_data(as_text=True)
    assert "新建单位" in page and "编辑成员" in page and f"/units/{unit.id}/edit" in page and "导入联系人" in page


@pytest.mark.parametrize("role", [UserRole.coordinator, UserRole.unit, UserRole.leader])
def test_anyone_but_the_office_gets_403_on_the_directory_forms_and_changes_nothing(client, session, auth,
                                                                                  make_unit, make_group, role):
    auth.login_as(role)
    unit = make_unit("市应急局")
    group = make_group("各区", [unit])
    alias = UnitAlias(unit_id=unit.id, alias="应急局")
    session.add(alias)
    session.flush()
    requests = [("get", "/units/new", None), ("post", "/units/new", {"name": "新单位", "kind": "other"}),
                ("get", f"/units/{unit.id}/edit", None),
                ("post", f"/units/{unit.id}/edit", {"name": "改名", "kind": "other"}),
                ("post", f"/units/{unit.id}/aliases", {"alias": "应急管理局"}),
                ("post", f"/units/{unit.id}/aliases/{alias.id}/delete", {}),
                ("post", f"/units/{unit.id}/active", {"is_active": "0"}),
                ("get", f"/units/groups/{group.id}", None), ("post", f"/units/groups/{group.id}", {}),
                ("get", f"/units/{unit.id}/contacts/new", None),
                ("get", "/units/contacts/import", None)]
    for method, path, data in requests:
        assert getattr(client, method)(path, data=data).status_code == 403, path
    session.refresh(unit)
    assert unit.name == "市应急局" and unit.is_active
    assert aliases_of(session, unit) == ["应急局"] and members_of(session, group) == [unit.id]
    assert session.exec(select(Unit).where(Unit.name == "新单位")).first() is None


def test_the_office_creates_a_unit_through_the_form(client, session, office, make_unit):
    parent = make_unit("市人民政府", kind=UnitKind.government)
    response = client.post("/units/new", data={"name": "市数据局", "full_name": "呼和浩特市数据局",
                                               "kind": "department", "code": "sjj", "parent_id": str(parent.id)})
    assert response.status_code == 302
    unit = session.exec(select(Unit).where(Unit.name == "市数据局")).one()
    assert (unit.full_name, unit.kind, unit.code, unit.parent_id) == ("呼和浩特市数据局", UnitKind.department, "sjj",
                                                                      parent.id)


@pytest.mark.parametrize("form, message", [
    ({"name": "市财政局"}, "已是单位“市财政局”的名称或简称"),
    ({"name": "财政局"}, "已是单位“市财政局”的名称或简称"),
    ({"name": ""}, "请填写单位名称"),
    ({"kind": "castle"}, "请从列表中选择单位类别"),
    ({"code": "Not A Code"}, "代码只能由小写字母、数字、下划线和连字符组成"),
    ({"parent_id": "999999"}, "所选的上级单位不存在"),
])
def test_a_wrong_unit_form_is_shown_again_in_chinese_with_what_was_typed(client, session, office, make_unit,
                                                                        form, message):
    existing = make_unit("市财政局")
    session.add(UnitAlias(unit_id=existing.id, alias="财政局"))
    session.flush()
    data = {"name": "市新建局", "full_name": "呼和浩特市新建局", "kind": "department", "code": "", "parent_id": "",
            **form}
    response = client.post("/units/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'value="呼和浩特市新建局"' in page
    if data["name"]:
        assert f'value="{data["name"]}"' in page
    assert session.exec(select(Unit).where(Unit.full_name == "呼和浩特市新建局")).first() is None


def test_the_office_edits_a_unit_and_a_duplicate_name_is_refused_on_the_page(client, session, office, make_unit):
    unit, other = make_unit("市林业局"), make_unit("市草原局")
    page = client.get(f"/units/{unit.id}/edit").get_data(as_text=True)
    assert 'value="市林业局"' in page
    response = client.post(f"/units/{unit.id}/edit", data={"name": "市草原局", "kind": "department"})
    assert response.status_code == 422 and "已是单位“市草原局”的名称或简称" in response.get_data(as_text=True)
    response = client.post(f"/units/{unit.id}/edit", data={"name": "市林业和草原局", "kind": "department"})
    assert response.status_code == 302
    session.refresh(unit)
    assert unit.name == "市林业和草原局" and other.name == "市草原局"


def test_the_office_adds_and_removes_aliases_on_the_edit_page(client, session, office, make_unit):
    unit, other = make_unit("市发展改革委"), make_unit("市工业和信息化局")
    assert client.post(f"/units/{unit.id}/aliases", data={"alias": "发展和改革委员会"}).status_code == 302
    response = client.post(f"/units/{other.id}/aliases", data={"alias": "发展和改革委员会"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "已是单位“市发展改革委”的名称或简称" in page and 'value="发展和改革委员会"' in page
    alias = session.exec(select(UnitAlias).where(UnitAlias.unit_id == unit.id)).one()
    assert "发展和改革委员会" in text_of(client.get(f"/units/{unit.id}/edit"))
    assert client.post(f"/units/{unit.id}/aliases/{alias.id}/delete").status_code == 302
    assert aliases_of(session, unit) == []
    assert client.post(f"/units/{other.id}/aliases/{alias.id}/delete").status_code == 404


def test_the_office_deactivates_and_reactivates_a_unit(client, session, office, make_unit):
    unit = make_unit("市旅游局")
    assert client.post(f"/units/{unit.id}/active", data={"is_active": "0"}).status_code == 302
    session.refresh(unit)
    assert not unit.is_active
    assert "已停用" in text_of(client.get("/units"))
    assert client.post(f"/units/{unit.id}/active", data={"is_active": "1"}).status_code == 302
    session.refresh(unit)
    assert unit.is_active


def test_the_office_edits_a_listed_groups_members_with_checkboxes(client, session, office, make_unit, make_group):
    a, b, c = make_unit("新城区", kind=UnitKind.area), make_unit("回民区", kind=UnitKind.area), \
        make_unit("玉泉区", kind=UnitKind.area)
    group = make_group("各旗县区", [a, b])
    page = client.get(f"/units/groups/{group.id}").get_data(as_text=True)
    assert page.count('type="checkbox"') >= 3
    assert re.search(rf'checked[^>]*value="{a.id}"|value="{a.id}"[^>]*checked', page)
    assert not re.search(rf'checked[^>]*value="{c.id}"|value="{c.id}"[^>]*checked', page)
    response = client.post(f"/units/groups/{group.id}", data={"unit_ids": [str(b.id), str(c.id)]})
    assert response.status_code == 302
    assert members_of(session, group) == sorted([b.id, c.id])
    assert last_event(session).action == "group.updated"


def test_a_computed_group_is_shown_but_not_editable(client, session, office, make_group):
    group = make_group("各有关部门", membership=GroupMembership.plan_departments)
    assert "自动确定" in text_of(client.get(f"/units/groups/{group.id}"))
    response = client.post(f"/units/groups/{group.id}", data={"unit_ids": []}, follow_redirects=True)
    assert "不能手工编辑" in text_of(response)


def test_an_unknown_unit_or_group_answers_404(client, office):
    for path in ("/units/999999/edit", "/units/groups/999999"):
        assert client.get(path).status_code == 404


# --- query budget ---------------------------------------------------------------------------------

def test_the_unit_list_makes_the_same_number_of_queries_for_20_and_2000_units(client, session, office,
                                                                             make_group, count_queries):
    counts, made = [], 0
    for size in (20, 2000):
        units = [Unit(name=f"批量单位{n:05d}", kind=list(UnitKind)[n % len(UnitKind)], created_dt=NOW,
                      is_active=bool(n % 3)) for n in range(made, size)]
        session.add_all(units)
        session.flush()
        session.add_all([UnitAlias(unit_id=u.id, alias=f"{u.name}简称") for u in units])
        make_group(f"单位组{size}", units[:10])
        made = size
        for query in ("", "?q=批量&kind=department"):
            with count_queries() as counted:
                response = client.get(f"/units{query}")
            assert response.status_code == 200 and "编辑" in response.get_data(as_text=True)
            counts.append(counted.count)
    assert counts[:2] == counts[2:], counts
    assert max(counts) <= 10
