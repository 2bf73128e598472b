"""The route × role matrix: one row per endpoint of `app.url_map` (except `static`), one column per kind of user.

Columns (ROLES, in this order)::

    anonymous    no cookie (no token for the API)
    office       政府办督查科: runs the system
    coordinator  统筹单位 (市发展改革委): sees everything, reviews consolidated reports, runs evaluations
    leader       市领导: reads everything, changes nothing
    own          staff of 新城区, the unit whose report, attachment, contact, unit page, user record and token the
                 object routes point at
    lead         staff of 市住房和城乡建设局, the lead unit of task 2.3 (the task of that report)
    other        staff of 市水务局, a unit with no part in task 2.3
    disabled     an office account the office disabled, presenting the cookie (or token) it had before

Each row gives, for the requests its rule accepts:

    get    GET
    post   POST (PUT for the API) with an empty body
    valid  POST (PUT) with a valid submission (tests/security/valid_forms.py)

and for each column the outcome, in this vocabulary:

    ok            200: the page, the file or the JSON
    login         302 to /login: not logged in, the session ended, or the account disabled
    forbidden     403: the user may see the thing but not do this (a function of another role)
    hidden        404: the object lies outside the user's scope, so for them it does not exist
    redirect      302 elsewhere: the change was made (or refused with a flashed message, e.g. a removal the
                  report's state no longer allows), or a default page forwarding to its plan
    invalid       400 or 422: the form is incomplete (checked before the role for some forms, which is why
                  an empty `post` may say invalid where `valid` says forbidden: nothing is changed either way)
    conflict      409: allowed, but the object's state refuses it (the report is already submitted)
    unauthorized  401 JSON: the API without a valid bearer token (cookies never open the API)

The rules behind them (RELIABILITY.md, ARCHITECTURE.md "Permissions"): every page asks for a login first, so
anonymous and disabled users get `login` everywhere except /login, /health and the OpenAPI document; outside
one's scope an object is 404 (another unit's report, attachment, review page, token; an unpublished evaluation
or a draft briefing for anyone who may not read it); a function of another role is 403 (user, unit, contact,
round, settings, mail and calendar administration; the audit log; data entry for those who only read it); the
API answers 401 in JSON without a token and applies the token user's own scope. Every request of the matrix is
rolled back afterwards, so the rows are independent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tests.security.conftest import ROLES

OUTCOMES = {"ok", "login", "forbidden", "hidden", "redirect", "invalid", "conflict", "unauthorized"}


@dataclass(frozen=True)
class Row:
    endpoint: str
    path: Callable
    get: str | None = None
    post: str | None = None
    valid: str | None = None

    def expected(self, column: str) -> dict[str, str]:
        """{role: outcome} of one column (get, post or valid)."""
        words = getattr(self, column).split()
        assert len(words) == len(ROLES), f"{self.endpoint} {column}: {len(words)} outcomes for {len(ROLES)} roles"
        return dict(zip(ROLES, words))


#              anonymous    office       coordinator  leader       own          lead         other        disabled
MATRIX = [
    Row("accounts.change_password", lambda w: "/account/password",
        get=  "login        ok           ok           ok           ok           ok           ok           login",
        post= "login        invalid      invalid      invalid      invalid      invalid      invalid      login",
        valid="login        redirect     redirect     redirect     redirect     redirect     redirect     login"),
    Row("accounts.login", lambda w: "/login",
        get=  "ok           redirect     redirect     redirect     redirect     redirect     redirect     ok",
        post= "invalid      redirect     redirect     redirect     redirect     redirect     redirect     invalid",
        valid="redirect     redirect     redirect     redirect     redirect     redirect     redirect     redirect"),
    Row("accounts.logout", lambda w: "/logout",
        post= "login        login        login        login        login        login        login        login",
        valid="login        login        login        login        login        login        login        login"),
    Row("accounts.token_revoke", lambda w: f"/account/tokens/{w.token_ids['own']}/revoke",
        post= "login        hidden       hidden       hidden       redirect     hidden       hidden       login",
        valid="login        hidden       hidden       hidden       redirect     hidden       hidden       login"),
    Row("accounts.tokens_page", lambda w: "/account/tokens",
        get=  "login        ok           ok           ok           ok           ok           ok           login",
        post= "login        invalid      invalid      invalid      invalid      invalid      invalid      login",
        valid="login        ok           ok           ok           ok           ok           ok           login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("admin.user_edit", lambda w: f"/admin/users/{w.users['own']}",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("admin.user_list", lambda w: "/admin/users",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("admin.user_new", lambda w: "/admin/users/new",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("admin.user_reset_password", lambda w: f"/admin/users/{w.users['own']}/password",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("admin.user_set_active", lambda w: f"/admin/users/{w.users['own']}/active",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("agencies.alias_add", lambda w: f"/units/{w.units['新城区']}/aliases",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.alias_remove", lambda w: f"/units/{w.units['新城区']}/aliases/{w.alias_id}/delete",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.contact_edit", lambda w: f"/units/{w.units['新城区']}/contacts/{w.contact_id}",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.contact_new", lambda w: f"/units/{w.units['新城区']}/contacts/new",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.contact_remove", lambda w: f"/units/{w.units['新城区']}/contacts/{w.contact_id}/delete",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.contacts_import", lambda w: "/units/contacts/import",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.group_edit", lambda w: f"/units/groups/{w.group_id}",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.unit_edit", lambda w: f"/units/{w.units['新城区']}/edit",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.unit_list", lambda w: "/units",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("agencies.unit_new", lambda w: "/units/new",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("agencies.unit_set_active", lambda w: f"/units/{w.units['新城区']}/active",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("api.assignment_detail", lambda w: f"/api/v1/assignments/{w.own_assignment}",
        get=  "unauthorized ok           ok           ok           ok           ok           hidden       unauthorized"),
    Row("api.evaluation_detail", lambda w: f"/api/v1/evaluations/{w.evaluation_computed}",
        get=  "unauthorized ok           ok           ok           hidden       hidden       hidden       unauthorized"),
    Row("api.evaluation_list", lambda w: "/api/v1/evaluations",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.me", lambda w: "/api/v1/me",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.my_assignments", lambda w: "/api/v1/me/assignments",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.openapi", lambda w: "/api/v1/openapi.json",
        get=  "ok           ok           ok           ok           ok           ok           ok           ok"),
    Row("api.plan_detail", lambda w: f"/api/v1/plans/{w.slug}",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.plan_list", lambda w: "/api/v1/plans",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.report_save", lambda w: f"/api/v1/assignments/{w.own_assignment}/report",
        post= "unauthorized invalid      invalid      invalid      invalid      invalid      invalid      unauthorized",
        valid="unauthorized forbidden    forbidden    forbidden    conflict     forbidden    hidden       unauthorized"),
    Row("api.round_detail", lambda w: f"/api/v1/rounds/{w.round_id}",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.round_list", lambda w: "/api/v1/rounds",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.task_detail", lambda w: f"/api/v1/tasks/{w.task_id}",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
    Row("api.task_list", lambda w: f"/api/v1/plans/{w.slug}/tasks",
        get=  "unauthorized ok           ok           ok           ok           ok           ok           unauthorized"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("audit.event_list", lambda w: "/audit",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("briefings.briefing_chart", lambda w: f"/briefings/{w.briefing_published}/charts/lights.svg",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("briefings.briefing_detail", lambda w: f"/briefings/{w.briefing_draft}",
        get=  "login        ok           hidden       hidden       hidden       hidden       hidden       login"),
    Row("briefings.briefing_document", lambda w: f"/briefings/{w.briefing_draft}/preview",
        get=  "login        ok           hidden       hidden       hidden       hidden       hidden       login"),
    Row("briefings.briefing_edit", lambda w: f"/briefings/{w.briefing_draft}",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("briefings.briefing_list", lambda w: "/briefings",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("briefings.briefing_new", lambda w: "/briefings/new",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("briefings.briefing_pdf", lambda w: f"/briefings/{w.briefing_published}/pdf",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("briefings.briefing_preview", lambda w: "/briefings/preview",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("briefings.briefing_publish", lambda w: f"/briefings/{w.briefing_draft}/publish",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("briefings.briefing_status", lambda w: f"/briefings/{w.briefing_draft}/status",
        get=  "login        ok           hidden       hidden       hidden       hidden       hidden       login"),
    Row("briefings.dashboard", lambda w: "/dashboard",
        get=  "login        ok           ok           ok           forbidden    forbidden    forbidden    login"),
    Row("briefings.dashboard_chart", lambda w: "/dashboard/charts/sections.svg",
        get=  "login        ok           ok           ok           forbidden    forbidden    forbidden    login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("evaluations.area", lambda w: f"/evaluations/{w.evaluation_computed}/areas/{w.units['新城区']}",
        get=  "login        ok           ok           ok           hidden       hidden       hidden       login"),
    Row("evaluations.area_chart", lambda w: f"/evaluations/{w.evaluation_computed}/areas/{w.units['新城区']}/chart.svg",
        get=  "login        ok           ok           ok           hidden       hidden       hidden       login"),
    Row("evaluations.collect", lambda w: f"/evaluations/{w.evaluation_computed}/collect",
        post= "login        redirect     redirect     forbidden    hidden       hidden       hidden       login",
        valid="login        redirect     redirect     forbidden    hidden       hidden       hidden       login"),
    Row("evaluations.compute", lambda w: f"/evaluations/{w.evaluation_computed}/compute",
        post= "login        redirect     redirect     forbidden    hidden       hidden       hidden       login",
        valid="login        redirect     redirect     forbidden    hidden       hidden       hidden       login"),
    Row("evaluations.create", lambda w: "/evaluations/new",
        post= "login        invalid      invalid      invalid      invalid      invalid      invalid      login",
        valid="login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login"),
    Row("evaluations.detail", lambda w: f"/evaluations/{w.evaluation_computed}",
        get=  "login        ok           ok           ok           hidden       hidden       hidden       login"),
    Row("evaluations.energy", lambda w: f"/evaluations/energy/{w.slug}/2023",
        get=  "login        ok           ok           ok           forbidden    forbidden    forbidden    login",
        post= "login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login"),
    Row("evaluations.energy_default", lambda w: "/evaluations/energy",
        get=  "login        redirect     redirect     redirect     redirect     redirect     redirect     login"),
    Row("evaluations.energy_import", lambda w: f"/evaluations/energy/{w.slug}/import",
        post= "login        invalid      invalid      invalid      forbidden    forbidden    forbidden    login",
        valid="login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login"),
    Row("evaluations.export_json", lambda w: f"/evaluations/{w.evaluation_computed}/results.json",
        get=  "login        ok           ok           ok           hidden       hidden       hidden       login"),
    Row("evaluations.export_xlsx", lambda w: f"/evaluations/{w.evaluation_computed}/results.xlsx",
        get=  "login        ok           ok           ok           hidden       hidden       hidden       login"),
    Row("evaluations.index", lambda w: "/evaluations",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("evaluations.indicator_chart", lambda w: f"/evaluations/indicators/{w.slug}/{w.indicator_id}/chart.svg",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("evaluations.indicator_list", lambda w: f"/evaluations/indicators/{w.slug}",
        get=  "login        ok           ok           ok           ok           ok           ok           login",
        post= "login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login"),
    Row("evaluations.indicators_default", lambda w: "/evaluations/indicators",
        get=  "login        redirect     redirect     redirect     redirect     redirect     redirect     login"),
    Row("evaluations.measures", lambda w: f"/evaluations/measures/{w.slug}/2023",
        get=  "login        ok           ok           ok           forbidden    forbidden    forbidden    login",
        post= "login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login"),
    Row("evaluations.measures_default", lambda w: "/evaluations/measures",
        get=  "login        redirect     redirect     redirect     redirect     redirect     redirect     login"),
    Row("evaluations.measures_import", lambda w: f"/evaluations/measures/{w.slug}/import",
        post= "login        invalid      invalid      invalid      forbidden    forbidden    forbidden    login",
        valid="login        redirect     redirect     forbidden    forbidden    forbidden    forbidden    login"),
    Row("evaluations.publish_version", lambda w: f"/evaluations/{w.evaluation_computed}/publish",
        post= "login        redirect     redirect     forbidden    hidden       hidden       hidden       login",
        valid="login        redirect     redirect     forbidden    hidden       hidden       hidden       login"),
    Row("evaluations.rules_page", lambda w: "/evaluations/rules",
        get=  "login        ok           ok           ok           ok           ok           ok           login",
        post= "login        invalid      invalid      invalid      invalid      invalid      invalid      login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("health", lambda w: "/health",
        get=  "ok           ok           ok           ok           ok           ok           ok           ok"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("reminders.calendar", lambda w: "/calendar",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.calendar_remove", lambda w: f"/calendar/{w.override_day}/remove",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.mail_detail", lambda w: f"/mail/{w.message_id}",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.mail_html", lambda w: f"/mail/{w.message_id}/html",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.mail_list", lambda w: "/mail",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.mail_resend", lambda w: f"/mail/{w.message_id}/resend",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.mail_resume", lambda w: "/mail/resume",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reminders.policy", lambda w: "/reminders/policy",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("reporting.attachment_download", lambda w: f"/attachments/{w.attachment_id}",
        get=  "login        ok           ok           ok           ok           ok           hidden       login"),
    Row("reporting.attachment_remove", lambda w: f"/assignments/{w.own_assignment}/attachments/{w.attachment_id}/remove",
        post= "login        forbidden    forbidden    forbidden    redirect     forbidden    hidden       login",
        valid="login        forbidden    forbidden    forbidden    redirect     forbidden    hidden       login"),
    Row("reporting.attachment_upload", lambda w: f"/assignments/{w.own_assignment}/attachments",
        post= "login        invalid      invalid      invalid      invalid      invalid      hidden       login",
        valid="login        forbidden    forbidden    forbidden    conflict     forbidden    hidden       login"),
    Row("reporting.report_form", lambda w: f"/assignments/{w.own_assignment}",
        get=  "login        ok           ok           ok           ok           ok           hidden       login",
        post= "login        forbidden    forbidden    forbidden    conflict     forbidden    hidden       login",
        valid="login        forbidden    forbidden    forbidden    conflict     forbidden    hidden       login"),
    Row("reporting.report_review", lambda w: f"/rounds/{w.round_id}/tasks/{w.task_id}/reports/{w.report_id}/review",
        post= "login        invalid      invalid      invalid      hidden       invalid      hidden       login",
        valid="login        forbidden    forbidden    forbidden    hidden       redirect     hidden       login"),
    Row("reporting.round_close", lambda w: f"/rounds/{w.round_id}/close",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reporting.round_detail", lambda w: f"/rounds/{w.round_id}",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("reporting.round_ledger", lambda w: f"/rounds/{w.round_id}/ledger.xlsx",
        get=  "login        ok           ok           forbidden    forbidden    forbidden    forbidden    login"),
    Row("reporting.round_list", lambda w: "/rounds",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("reporting.round_open", lambda w: "/rounds/new",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reporting.settings", lambda w: "/settings",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("reporting.task_report_review", lambda w: f"/rounds/{w.round_id}/tasks/{w.task_id}/task-report/review",
        post= "login        invalid      invalid      invalid      hidden       invalid      hidden       login",
        valid="login        redirect     redirect     forbidden    hidden       forbidden    hidden       login"),
    Row("reporting.task_report_submit", lambda w: f"/rounds/{w.round_id}/tasks/{w.task_id}/consolidate",
        post= "login        invalid      invalid      invalid      hidden       invalid      hidden       login",
        valid="login        forbidden    forbidden    forbidden    hidden       redirect     hidden       login"),
    Row("reporting.task_review", lambda w: f"/rounds/{w.round_id}/tasks/{w.task_id}",
        get=  "login        ok           ok           ok           hidden       ok           hidden       login"),
    Row("reporting.todo", lambda w: "/todo",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
#              anonymous    office       coordinator  leader       own          lead         other        disabled
    Row("tasks.annexes", lambda w: f"/plans/{w.slug}/annexes",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("tasks.annexes_default", lambda w: "/annexes",
        get=  "login        redirect     redirect     redirect     redirect     redirect     redirect     login"),
    Row("tasks.import_confirm", lambda w: "/import/confirm",
        post= "login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        redirect     forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("tasks.import_upload", lambda w: "/import",
        get=  "login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login",
        post= "login        invalid      forbidden    forbidden    forbidden    forbidden    forbidden    login",
        valid="login        ok           forbidden    forbidden    forbidden    forbidden    forbidden    login"),
    Row("tasks.plan_list", lambda w: "/plans",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("tasks.plan_overview", lambda w: f"/plans/{w.slug}",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("tasks.plan_overview_default", lambda w: "/",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("tasks.task_detail", lambda w: f"/tasks/{w.task_id}",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("tasks.task_list", lambda w: f"/plans/{w.slug}/tasks",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
    Row("tasks.task_list_default", lambda w: "/tasks",
        get=  "login        redirect     redirect     redirect     redirect     redirect     redirect     login"),
    Row("tasks.unit_detail", lambda w: f"/units/{w.units['新城区']}",
        get=  "login        ok           ok           ok           ok           ok           ok           login"),
]

ROWS = {row.endpoint: row for row in MATRIX}
