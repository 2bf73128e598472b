"""The units directory pages: everyone reads them; the office changes units, aliases, groups and contacts.

Access: every logged-in user reads the unit list (and each unit's page, `tasks.unit_detail`). The pages
and actions that change the directory belong to the office (`can_manage_units`; the contacts import
`can_import_contacts`): anyone else gets 403 (PermissionDenied, audited) — they may see the units but not
act on them. An id that does not exist, or a contact or alias of another unit, answers 404.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from tracker import time
from tracker.accounts.permissions import can_import_contacts, can_manage_units, require
from tracker.agencies import contacts, edits, services
from tracker.agencies.forms import (AliasForm, ConfirmForm, ContactForm, ContactsImportForm, GroupMembersForm,
                                    SetActiveForm, UnitForm)
from tracker.agencies.models import GroupMembership, Unit, UnitKind, UNIT_KIND_LABELS
from tracker.db import get_session
from tracker.errors import Conflict, Invalid, InvalidFile
from tracker.web import Page, page_number, populate_errors

bp = Blueprint("agencies", __name__, url_prefix="/units")


@bp.get("")
def unit_list():
    kind_value = request.args.get("kind", "")
    kind = UnitKind(kind_value) if kind_value in UnitKind._value2member_map_ else None
    search = request.args.get("q", "").strip()[:50]
    session = get_session()
    size, number = current_app.config["PAGE_SIZE"], page_number()
    units, total = services.list_units(session, kind=kind, search=search, page=number, size=size)
    return render_template("agencies/unit_list.html", page=Page(units, number, size, total),
                           groups=services.list_groups(session), kind=kind, search=search,
                           kinds=UNIT_KIND_LABELS)


# --- units -----------------------------------------------------------------------------------------

def _unit_label(name: str, is_active: bool) -> str:
    return name if is_active else f"{name}（已停用）"


def _parent_choices(session, unit: Unit | None) -> list[SelectChoice]:
    return [SelectChoice("", "（无）")] + [SelectChoice(str(unit_id), _unit_label(name, is_active))
                                         for unit_id, name, is_active in edits.unit_choices(session)
                                         if unit is None or unit_id != unit.id]


def _unit_fields(form: UnitForm) -> edits.UnitFields:
    return edits.UnitFields(name=form.name.data or "", kind=UnitKind(form.kind.data),
                               full_name=form.full_name.data, code=form.code.data, parent_id=form.parent_id.data)


@bp.route("/new", methods=["GET", "POST"])
def unit_new():
    require(can_manage_units(current_user))
    session = get_session()
    form = UnitForm()
    form.parent_id.choices = _parent_choices(session, None)
    if form.validate_on_submit():
        try:
            unit = edits.create_unit(session, fields=_unit_fields(form), actor=current_user, now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
            return render_template("agencies/unit_new.html", form=form), 422
        flash(f"已新建单位“{unit.name}”。", "success")
        return redirect(url_for("agencies.unit_edit", unit_id=unit.id))
    return render_template("agencies/unit_new.html", form=form), 422 if form.is_submitted() else 200


def _render_unit_edit(unit: Unit, *, form=None, alias_form=None, active_form=None, status: int = 200):
    session = get_session()
    if form is None:
        form = UnitForm(formdata=None, data={"name": unit.name, "full_name": unit.full_name, "kind": unit.kind.value,
                                             "code": unit.code, "parent_id": unit.parent_id})
    form.parent_id.choices = _parent_choices(session, unit)
    return render_template("agencies/unit_edit.html", unit=unit, form=form,
                           alias_form=alias_form or AliasForm(formdata=None),
                           active_form=active_form or SetActiveForm(formdata=None,
                                                                    data={"is_active": "0" if unit.is_active else "1"})), status


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    unit = services.get_unit(session, unit_id)
    if request.method == "GET":
        return _render_unit_edit(unit)
    form = UnitForm()
    form.parent_id.choices = _parent_choices(session, unit)
    if not form.validate_on_submit():
        return _render_unit_edit(unit, form=form, status=422)
    try:
        edits.update_unit(session, unit, fields=_unit_fields(form), actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_unit_edit(unit, form=form, status=422)
    flash(f"已保存单位“{unit.name}”。", "success")
    return redirect(url_for("agencies.unit_edit", unit_id=unit.id))


@bp.post("/<int:unit_id>/aliases")
def alias_add(unit_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    unit = services.get_unit(session, unit_id)
    form = AliasForm()
    if not form.validate_on_submit():
        return _render_unit_edit(unit, alias_form=form, status=422)
    try:
        entry = edits.add_alias(session, unit, alias=form.alias.data, actor=current_user, now=time.now())
    except Invalid as exc:
        populate_errors(form, exc)
        return _render_unit_edit(unit, alias_form=form, status=422)
    flash(f"已为“{unit.name}”添加简称/全称“{entry.alias}”。", "success")
    return redirect(url_for("agencies.unit_edit", unit_id=unit.id))


@bp.post("/<int:unit_id>/aliases/<int:alias_id>/delete")
def alias_remove(unit_id: int, alias_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    unit = services.get_unit(session, unit_id)
    if ConfirmForm().validate_on_submit():
        edits.remove_alias(session, unit, alias_id=alias_id, actor=current_user, now=time.now())
        flash("已删除该简称/全称。", "success")
    return redirect(url_for("agencies.unit_edit", unit_id=unit.id))


@bp.post("/<int:unit_id>/active")
def unit_set_active(unit_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    unit = services.get_unit(session, unit_id)
    form = SetActiveForm()
    if not form.validate_on_submit():
        return _render_unit_edit(unit, active_form=form, status=422)
    is_active = form.is_active.data == "1"
    edits.set_unit_active(session, unit, is_active=is_active, actor=current_user, now=time.now())
    flash(f"已{'启用' if is_active else '停用'}单位“{unit.name}”。", "success")
    return redirect(url_for("agencies.unit_edit", unit_id=unit.id))


# --- groups ----------------------------------------------------------------------------------------

@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group_edit(group_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    group = edits.get_group(session, group_id)
    is_listed = group.membership is GroupMembership.listed
    if request.method == "GET" or not is_listed:
        form = GroupMembersForm(formdata=None, data={"unit_ids": [m.unit_id for m in group.members]})
    else:
        form = GroupMembersForm()
    form.unit_ids.choices = [SelectChoice(str(unit_id), _unit_label(name, is_active))
                             for unit_id, name, is_active in edits.unit_choices(session)]
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("agencies/group_edit.html", group=group, form=form, is_listed=is_listed), 422
        try:
            edits.set_group_members(session, group, unit_ids=form.unit_ids.data or [],
                                       actor=current_user, now=time.now())
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("agencies.unit_list"))
        except Invalid as exc:
            populate_errors(form, exc)
            return render_template("agencies/group_edit.html", group=group, form=form, is_listed=is_listed), 422
        flash(f"已保存单位组“{group.name}”的成员。", "success")
        return redirect(url_for("agencies.unit_list"))
    return render_template("agencies/group_edit.html", group=group, form=form, is_listed=is_listed)


# --- contacts --------------------------------------------------------------------------------------

def _contact_fields(form: ContactForm) -> contacts.ContactFields:
    return contacts.ContactFields(name=form.name.data or "", email=form.email.data or "", phone=form.phone.data)


@bp.route("/<int:unit_id>/contacts/new", methods=["GET", "POST"])
def contact_new(unit_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    unit = services.get_unit(session, unit_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contact = contacts.add_contact(session, unit, fields=_contact_fields(form), actor=current_user,
                                           now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
            return render_template("agencies/contact_form.html", unit=unit, form=form, contact=None), 422
        flash(f"已添加联系人{contact.name}。", "success")
        return redirect(url_for("tasks.unit_detail", unit_id=unit.id))
    return (render_template("agencies/contact_form.html", unit=unit, form=form, contact=None),
            422 if form.is_submitted() else 200)


@bp.route("/<int:unit_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
def contact_edit(unit_id: int, contact_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    contact = contacts.get_contact(session, unit_id, contact_id)
    if request.method == "GET":
        form = ContactForm(formdata=None, data={"name": contact.name, "email": contact.email, "phone": contact.phone})
        return render_template("agencies/contact_form.html", unit=contact.unit, form=form, contact=contact)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contacts.update_contact(session, contact, fields=_contact_fields(form), actor=current_user,
                                    now=time.now())
        except Invalid as exc:
            populate_errors(form, exc)
        else:
            flash(f"已保存联系人{contact.name}。", "success")
            return redirect(url_for("tasks.unit_detail", unit_id=unit_id))
    return render_template("agencies/contact_form.html", unit=contact.unit, form=form, contact=contact), 422


@bp.post("/<int:unit_id>/contacts/<int:contact_id>/delete")
def contact_remove(unit_id: int, contact_id: int):
    require(can_manage_units(current_user))
    session = get_session()
    contact = contacts.get_contact(session, unit_id, contact_id)
    if ConfirmForm().validate_on_submit():
        contacts.remove_contact(session, contact, actor=current_user, now=time.now())
        flash(f"已删除联系人{contact.name}。", "success")
    return redirect(url_for("tasks.unit_detail", unit_id=unit_id))


@bp.route("/contacts/import", methods=["GET", "POST"])
def contacts_import():
    require(can_import_contacts(current_user))
    form = ContactsImportForm()
    if not form.validate_on_submit():
        return (render_template("agencies/contacts_import.html", form=form, problems=[]),
                422 if form.is_submitted() else 200)
    upload = form.document.data
    filename = upload.filename or "contacts.csv"
    try:
        result = contacts.import_contacts(get_session(), upload.read(), filename=filename, actor=current_user,
                                          now=time.now())
    except InvalidFile as exc:
        form.document.errors = ["文件未导入，请修改以下问题后重新上传（共 %d 处）" % len(exc.problems)]
        problems = [f"第 {line} 行：{message}" if line else message for line, message in exc.problems]
        return render_template("agencies/contacts_import.html", form=form, problems=problems), 422
    flash(result.summary() + "。", "success")
    return redirect(url_for("agencies.contacts_import"))
