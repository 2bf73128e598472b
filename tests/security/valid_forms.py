"""A valid submission of every state-changing route of the app, built fresh for each request (uploads are streams).

`VALID[endpoint](world)` returns `(data, options)`: `data` is the form (or JSON) and `options` what the test
client needs besides (`content_type`, `json`). The access matrix sends them as each role, the mass assignment
test adds injected fields to them, the CSRF test sends them without a token.
"""
from __future__ import annotations

import io

from tests.conftest import HOHHOT
from tests.factories import TEST_PASSWORD
from tests.security.access_matrix import ROWS
from tests.security.conftest import OWN_UNIT, PDF, ROLES

NEW_PASSWORD = "a brand new passphrase for 2025"


def _form(data: dict) -> tuple[dict, dict]:
    return data, {}


def _upload(name: str, content: bytes, **fields) -> tuple[dict, dict]:
    return {**fields, "file": (io.BytesIO(content), name)}, {"content_type": "multipart/form-data"}


def _document(name: str, content: bytes, **fields) -> tuple[dict, dict]:
    return {**fields, "document": (io.BytesIO(content), name)}, {"content_type": "multipart/form-data"}


def contacts_csv(*rows: tuple[str, str, str]) -> bytes:
    return ("单位,姓名,电子邮箱\n" + "".join(f"{u},{n},{e}\n" for u, n, e in rows)).encode("utf-8")


def energy_csv(area: str = OWN_UNIT, year: int = 2023) -> bytes:
    return (f"地区,年份,能源消费总量,地区生产总值,新增可再生能源电力消费量,原料用能\n"
            f"{area},{year},1000,2000,10,5\n").encode("utf-8")


def measures_csv(area: str = OWN_UNIT, year: int = 2023, note: str = "措施落实到位") -> bytes:
    return f"地区,年份,措施得分,说明\n{area},{year},50,{note}\n".encode("utf-8")


RULES = {"path_shape": "geometric", "target_points": "40", "bonus_per_step": "3", "bonus_cap": "9", "min_share": "0.5",
         "measures_points": "60", "band_excellent": "95", "band_complete": "80", "band_basic": "60",
         "weight_on_time": "0.4", "weight_targets": "0.4", "weight_status": "0.2", "task_band_excellent": "90",
         "task_band_good": "75", "task_band_pass": "60", "note": "年度调整"}
POLICY = {"is_enabled": "y", "remind_before_working_days": "3", "remind_on_due_date": "y",
          "chase_every_working_days": "2", "copy_lead_after_working_days": "3", "copy_office_after_working_days": "5",
          "send_window_start": "08:30", "send_window_end": "17:30", "dead_after_working_days": "5"}


def briefing(world, **changes) -> dict:
    return {"round_id": str(world.round_id), "evaluation_id": "", "title": "关于第三季度推进情况的通报（修改）",
            "issue_date": "2025-10-02", "opening": "开头语。", "problems": "存在问题。", "next_steps": "下步工作。",
            **changes}


VALID = {
    "accounts.change_password": lambda w: _form({"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD}),
    "accounts.login": lambda w: _form({"username": "sec-own", "password": TEST_PASSWORD}),
    "accounts.logout": lambda w: _form({}),
    "accounts.token_revoke": lambda w: _form({}),
    "accounts.tokens_page": lambda w: _form({"name": "统计局数据对接"}),
    "admin.user_edit": lambda w: _form({"display_name": "改过的姓名", "unit_id": str(w.units[OWN_UNIT]), "role": "unit",
                                        "email": "changed@example.gov.cn", "phone": "0471-7654321"}),
    "admin.user_new": lambda w: _form({"username": "sec-newcomer", "display_name": "新同事",
                                       "unit_id": str(w.units[OWN_UNIT]), "role": "unit",
                                       "email": "newcomer@example.gov.cn", "password": NEW_PASSWORD,
                                       "confirm": NEW_PASSWORD}),
    "admin.user_reset_password": lambda w: _form({"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    "admin.user_set_active": lambda w: _form({"is_active": "0"}),
    "agencies.alias_add": lambda w: _form({"alias": "新城区政府"}),
    "agencies.alias_remove": lambda w: _form({}),
    "agencies.contact_edit": lambda w: _form({"name": "张联络", "email": "zhang.new@xincheng.example.gov.cn",
                                              "phone": "0471-1111111"}),
    "agencies.contact_new": lambda w: _form({"name": "王联络", "email": "wang@xincheng.example.gov.cn", "phone": ""}),
    "agencies.contact_remove": lambda w: _form({}),
    "agencies.contacts_import": lambda w: _document("联系人.csv",
                                                    contacts_csv((OWN_UNIT, "赵联络", "zhao@xc.example.gov.cn"))),
    "agencies.group_edit": lambda w: _form({"unit_ids": [str(w.units[OWN_UNIT]), str(w.units["回民区"])]}),
    "agencies.unit_edit": lambda w: _form({"name": OWN_UNIT, "full_name": "呼和浩特市新城区", "kind": "area", "code": "xcq",
                                           "parent_id": ""}),
    "agencies.unit_new": lambda w: _form({"name": "市测试服务中心", "full_name": "", "kind": "department", "code": "",
                                          "parent_id": ""}),
    "agencies.unit_set_active": lambda w: _form({"is_active": "0"}),
    "api.report_save": lambda w: ({"progress_text": "通过接口报送的进展", "submit": False}, {"json_body": True}),
    "briefings.briefing_edit": lambda w: _form(briefing(w)),
    "briefings.briefing_new": lambda w: _form(briefing(w)),
    "briefings.briefing_preview": lambda w: _form(briefing(w)),
    "briefings.briefing_publish": lambda w: _form(briefing(w)),
    "evaluations.collect": lambda w: _form({}),
    "evaluations.compute": lambda w: _form({}),
    "evaluations.create": lambda w: _form({"plan": w.slug, "kind": "annual", "year": "2022"}),
    "evaluations.energy": lambda w: _form({f"{name}-{w.units[OWN_UNIT]}": value for name, value in (
        ("energy_tce", "1000"), ("gdp_10k_yuan", "2000"), ("renewable_tce", "10"), ("feedstock_tce", "5"),
        ("expected_total_tce", ""))}),
    "evaluations.energy_import": lambda w: _upload("能源数据.csv", energy_csv()),
    "evaluations.indicator_list": lambda w: _form({f"value-{w.indicator_id}-2023": "1.5"}),
    "evaluations.measures": lambda w: _form({f"score-{w.units[OWN_UNIT]}": "50", f"note-{w.units[OWN_UNIT]}": "措施落实到位"}),
    "evaluations.measures_import": lambda w: _upload("措施得分.csv", measures_csv()),
    "evaluations.publish_version": lambda w: _form({}),
    "evaluations.rules_page": lambda w: _form(dict(RULES)),
    "reminders.calendar": lambda w: _form({"day": "2025-10-12", "kind": "work", "note": "调休上班"}),
    "reminders.calendar_remove": lambda w: _form({}),
    "reminders.mail_resend": lambda w: _form({}),
    "reminders.mail_resume": lambda w: _form({}),
    "reminders.policy": lambda w: _form(dict(POLICY)),
    "reporting.attachment_remove": lambda w: _form({}),
    "reporting.attachment_upload": lambda w: _upload("补充佐证.pdf", PDF),
    "reporting.report_form": lambda w: _form({"progress_text": "补充的进展", "save_draft": "1"}),
    "reporting.report_review": lambda w: _form({"decision": "return", "reason": "请补充佐证材料"}),
    "reporting.round_close": lambda w: _form({}),
    "reporting.round_open": lambda w: _form({"plan": w.slug, "label": "2025年第四季度调度", "period_start": "2025-10-01",
                                             "period_end": "2025-12-31", "due_date": "2026-01-10"}),
    "reporting.settings": lambda w: _form({"cadence_months": "3", "path_tolerance_pct": "10",
                                           "red_after_working_days": "5", "first_named_leads": "y"}),
    "reporting.task_report_review": lambda w: _form({"decision": "return", "reason": "请补充数据"}),
    "reporting.task_report_submit": lambda w: _form({"progress": "in_progress", "progress_pct": "55",
                                                     "narrative": "牵头单位汇总：推进顺利。", "light_override": "",
                                                     "light_override_reason": ""}),
    "tasks.import_confirm": lambda w: _form({"upload": "0" * 64, "slug": "hohhot-copy", "filename": "copy.txt"}),
    "tasks.import_upload": lambda w: _document("hohhot-copy.txt", HOHHOT.read_bytes(), slug="hohhot-copy"),
}


#: endpoints posted by someone else than the matrix's first allowed role, or to another object: (role, path, outcome)
OVERRIDES = {
    # the own unit's report is submitted already: the lead unit writes its own report instead
    "reporting.report_form": ("lead", lambda w: f"/assignments/{w.lead_assignment}", "redirect"),
    "reporting.attachment_upload": ("lead", lambda w: f"/assignments/{w.lead_assignment}/attachments", "redirect"),
    "reporting.attachment_remove": ("own", None, "redirect"),
    "accounts.logout": ("office", None, "login"),
}


def actor_for(endpoint: str) -> str | None:
    """Who posts `endpoint`'s valid form: the first role the access matrix lets through, unless overridden."""
    if endpoint in OVERRIDES:
        return OVERRIDES[endpoint][0]
    expected = ROWS[endpoint].expected("valid")
    return next((role for role in ROLES if expected[role] in ("redirect", "ok")), None)


def valid_request(world, endpoint: str) -> tuple[dict | None, dict]:
    """(data, options) for the test client; a JSON body travels as `json=`."""
    data, options = VALID[endpoint](world)
    if options.pop("json_body", False):
        return None, {"json": data}
    return data, options
