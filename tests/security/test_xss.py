"""Chinese free text carrying markup reaches every sink as text.

Six payloads (a script tag, an attribute break-out with an `onerror` image, a `javascript:` URL, full-width angle
brackets, a tag split by a zero-width space, a Jinja expression) are typed by the people who may type them into
every free-text field: report progress, return reasons, the consolidated narrative, the light override reason,
unit names and aliases, contact names, user display names, briefing title and free sections, measures notes,
calendar notes and token names. Every page that shows them shows them escaped (no inline script, no handler
attribute, no `javascript:` link, `{{7*7}}` never evaluated), re-rendered forms keep them escaped inside `value`
attributes and text areas, the briefing's HTML and PDF (pdftotext) show them literally, the reminder email has them
literal in its subject and text part and escaped in its HTML part, and the Excel exports store formula-like text
(`=cmd|' /C calc'!A0`, `+1+1`, `-2+3`, `@SUM(A1)`) as text, never as a formula.
"""
from __future__ import annotations

import io
import re
from email import message_from_bytes, policy as email_policy
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from sqlmodel import select

from tracker.agencies.models import Contact
from tracker.briefings.models import Briefing
from tracker.reminders import planner
from tracker.reminders.models import OutboxMessage
from tracker.reminders.outbox import build_email
from tests.security.conftest import OWN_UNIT, beijing, send, undone

PAYLOADS = {
    "script": "督查<script>alert('督查')</script>通报",
    "attribute": '督查"><img src=x onerror=alert(1)>通报',
    "javascript": "督查javascript:alert(1)通报",
    "full-width": "督查＜script＞alert(2)＜/script＞通报",
    "zero-width": "督查<scr\u200bipt>alert(3)</scr\u200bipt>通报",
    "template": "督查{{7*7}}通报",
}
class _Markup(HTMLParser):
    """What a browser would run: inline scripts, event handler attributes, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("an inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"an event handler {name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and re.sub(r"\s", "", value or "").lower().startswith(
                    "javascript:"):
                self.found.append(f"a javascript: URL in {name}= of <{tag}>")


def runnable_markup(page: str) -> list[str]:
    parser = _Markup()
    parser.feed(page)
    parser.close()
    return parser.found


def assert_shown_as_text(page: str, text: str, where: str) -> None:
    escaped = str(escape(text))
    assert escaped in page, f"{where}: the text is not shown (escaped) on the page"
    if escaped != text:
        assert text not in page, f"{where}: the text is in the page unescaped"
    assert runnable_markup(page) == [], f"{where}: the page carries runnable markup"


def _review(w):
    return f"/rounds/{w.round_id}/tasks/{w.task_id}"


def _return_own_report(w, reason="请补充"):
    send(w, "lead", "POST", f"{_review(w)}/reports/{w.report_id}/review", data={"decision": "return", "reason": reason},
         keep=True)


def _report_text(w, text):
    _return_own_report(w)
    send(w, "own", "POST", f"/assignments/{w.own_assignment}", data={"progress_text": text, "submit_report": "1"},
         keep=True)


def _consolidate(w, narrative="汇总", reason=""):
    send(w, "lead", "POST", f"{_review(w)}/consolidate", keep=True, data={
        "progress": "lagging", "progress_pct": "30", "narrative": narrative,
        "light_override": "red" if reason else "", "light_override_reason": reason})


def _unit_name(w, text):
    send(w, "office", "POST", f"/units/{w.units[OWN_UNIT]}/edit", keep=True,
         data={"name": text, "full_name": "", "kind": "area", "code": "", "parent_id": ""})


def _display_name(w, text):
    send(w, "office", "POST", f"/admin/users/{w.users['own']}", keep=True, data={
        "display_name": text, "unit_id": str(w.units[OWN_UNIT]), "role": "unit", "email": "own@example.gov.cn"})


def _briefing(w, text):
    send(w, "office", "POST", f"/briefings/{w.briefing_draft}", keep=True, data={
        "round_id": str(w.round_id), "evaluation_id": "", "title": text, "issue_date": "2025-10-02",
        "opening": text, "problems": text, "next_steps": text})


def _contact_page(w):
    contact = w.session.exec(select(Contact).where(Contact.name != "张联络")).first()
    return f"/units/{w.units[OWN_UNIT]}/contacts/{contact.id}"


#: sink -> (how the text is typed, [(who looks, where)])
SINKS = {
    "report progress text": (_report_text, [
        ("own", lambda w: f"/assignments/{w.own_assignment}"), ("lead", _review),
        ("office", lambda w: f"/assignments/{w.own_assignment}")]),
    "return reason": (lambda w, text: _return_own_report(w, text), [
        ("own", lambda w: f"/assignments/{w.own_assignment}"), ("own", lambda w: "/todo"), ("lead", _review)]),
    "consolidated narrative": (lambda w, text: _consolidate(w, narrative=text), [
        ("lead", _review), ("coordinator", _review)]),
    "light override reason": (lambda w, text: _consolidate(w, reason=text), [
        ("lead", _review), ("office", lambda w: f"/tasks/{w.task_id}"),
        ("office", lambda w: f"/rounds/{w.round_id}")]),
    "unit name": (_unit_name, [
        ("own", lambda w: "/units"), ("own", lambda w: f"/units/{w.units[OWN_UNIT]}"),
        ("office", lambda w: f"/tasks/{w.task_id}"), ("office", lambda w: f"/rounds/{w.round_id}?view=units"),
        ("lead", _review), ("office", lambda w: "/admin/users"), ("leader", lambda w: "/dashboard"),
        ("office", lambda w: f"/evaluations/{w.evaluation_computed}")]),
    "unit alias": (lambda w, text: send(w, "office", "POST", f"/units/{w.units[OWN_UNIT]}/aliases",
                                        data={"alias": text}, keep=True), [
        ("own", lambda w: "/units"), ("office", lambda w: f"/units/{w.units[OWN_UNIT]}/edit")]),
    "contact name": (lambda w, text: send(w, "office", "POST", f"/units/{w.units[OWN_UNIT]}/contacts/new",
                                          data={"name": text, "email": "xss@example.gov.cn"}, keep=True), [
        ("other", lambda w: f"/units/{w.units[OWN_UNIT]}"), ("office", _contact_page)]),
    "user display name": (_display_name, [
        ("office", lambda w: "/admin/users"), ("office", lambda w: f"/admin/users/{w.users['own']}"),
        ("own", lambda w: "/todo")]),
    "briefing title and free sections": (_briefing, [
        ("office", lambda w: f"/briefings/{w.briefing_draft}"), ("office", lambda w: "/briefings"),
        ("office", lambda w: f"/briefings/{w.briefing_draft}/preview")]),
    "measures note": (lambda w, text: send(w, "coordinator", "POST", "/evaluations/measures/hohhot/2023", keep=True,
                                           data={f"score-{w.units[OWN_UNIT]}": "50",
                                                 f"note-{w.units[OWN_UNIT]}": text}), [
        ("leader", lambda w: "/evaluations/measures/hohhot/2023")]),
    "calendar note": (lambda w, text: send(w, "office", "POST", "/calendar", keep=True,
                                           data={"day": "2025-10-12", "kind": "work", "note": text}), [
        ("office", lambda w: "/calendar?year=2025")]),
    "token name": (lambda w, text: send(w, "own", "POST", "/account/tokens", data={"name": text}, keep=True), [
        ("own", lambda w: "/account/tokens")]),
}


@pytest.mark.parametrize("sink", list(SINKS))
@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_free_text_with_markup_is_shown_as_text_wherever_it_appears(world, payload, sink):
    text = PAYLOADS[payload]
    type_it, pages = SINKS[sink]
    with undone(world.session, world.storage):
        type_it(world, text)
        for role, path in pages:
            where = path(world)
            response = send(world, role, "GET", where, keep=True)
            assert response.status_code == 200, f"{sink}: {role} {where} answered {response.status_code}"
            assert_shown_as_text(response.get_data(as_text=True), text, f"{sink} on {where} ({role})")


#: forms that come back with what was typed when something else is wrong: (who, path, data with TEXT, field)
RETYPED = {
    "unit name": ("office", lambda w: "/units/new", {"name": "TEXT", "kind": "nonsense"}),
    "unit alias": ("office", lambda w: f"/units/{w.units['市水务局']}/aliases", {"alias": "TEXT" + "长" * 200}),
    "contact name": ("office", lambda w: f"/units/{w.units[OWN_UNIT]}/contacts/new", {"name": "TEXT", "email": "bad"}),
    "user display name": ("office", lambda w: "/admin/users/new",
                          {"display_name": "TEXT", "username": "", "role": "unit"}),
    "token name": ("own", lambda w: "/account/tokens", {"name": "TEXT" + "长" * 60}),
    "calendar note": ("office", lambda w: "/calendar", {"day": "", "kind": "work", "note": "TEXT"}),
    "report progress text": ("lead", lambda w: f"/assignments/{w.lead_assignment}",
                             {"progress_text": "TEXT" + "长" * 5000, "submit_report": "1"}),
    "consolidated narrative": ("lead", lambda w: f"{_review(w)}/consolidate",
                               {"progress": "in_progress", "progress_pct": "200", "narrative": "TEXT"}),
    "briefing title": ("office", lambda w: "/briefings/new", {"round_id": "", "title": "TEXT", "issue_date": ""}),
    "login username": ("anonymous", lambda w: "/login", {"username": "TEXT", "password": ""}),
}


@pytest.mark.parametrize("form", list(RETYPED))
@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_a_form_shown_again_keeps_the_typed_markup_escaped_in_its_attributes(world, payload, form):
    text = PAYLOADS[payload]
    role, path, data = RETYPED[form]
    typed = {name: value.replace("TEXT", text) for name, value in data.items()}
    response = send(world, role, "POST", path(world), data=typed)
    assert response.status_code in (400, 401, 409, 422), f"{form}: {response.status_code}"
    page = response.get_data(as_text=True)
    value = typed[next(name for name, v in data.items() if "TEXT" in v)]
    escaped = str(escape(value))
    in_attribute = f'value="{escaped}"' in page
    in_textarea = re.search(r"<textarea[^>]*>\s*" + re.escape(escaped) + r"</textarea>", page) is not None
    assert in_attribute or in_textarea, f"{form}: the typed text is not kept (escaped) in its field"
    assert_shown_as_text(page, value, form)


def test_the_login_page_never_sends_a_user_to_a_javascript_url(world):
    client = world.app.test_client()
    with undone(world.session, world.storage):  # the logins and logouts are undone with the rest
        _log_in_and_out_with_next(client)


def _log_in_and_out_with_next(client):
    from urllib.parse import quote, urlsplit

    for target in ("javascript:alert(1)", "/\njavascript:alert(1)", "java\tscript:alert(1)", "JaVaScRiPt:alert(1)",
                   "//javascript:alert(1)", "/%0ajavascript:alert(1)"):
        response = client.post(f"/login?next={quote(target, safe='')}",
                               data={"username": "sec-own", "password": "correct horse battery staple"})
        location = urlsplit(response.headers["Location"])
        assert response.status_code == 302 and not location.scheme and not location.netloc, target
        assert location.path.startswith("/") and not location.path.startswith("//"), target
        client.post("/logout")


# --- the briefing: HTML and PDF ------------------------------------------------------------------------

def test_the_briefing_html_and_pdf_show_every_payload_literally(world, monkeypatch, tmp_path):
    from tracker.briefings import pdf as pdf_module
    from tracker.briefings.services import publishing
    from tests.security.conftest import REAL_RENDER_PDF

    every = "\n".join(PAYLOADS.values())
    monkeypatch.setattr(pdf_module, "render_pdf", REAL_RENDER_PDF)
    with undone(world.session, world.storage):
        _unit_name(world, PAYLOADS["attribute"])
        _consolidate(world, narrative=PAYLOADS["script"] + PAYLOADS["template"])
        send(world, "office", "POST", f"/briefings/{world.briefing_draft}", keep=True, data={
            "round_id": str(world.round_id), "evaluation_id": str(world.evaluation_published),
            "title": PAYLOADS["script"], "issue_date": "2025-10-02", "opening": every, "problems": every,
            "next_steps": every})
        html = send(world, "office", "GET", f"/briefings/{world.briefing_draft}/preview", keep=True)
        page = html.get_data(as_text=True)
        for name, text in PAYLOADS.items():
            assert_shown_as_text(page, text, f"briefing HTML ({name})")
        briefing = world.session.get(Briefing, world.briefing_draft)
        press = publishing.Press.from_config(world.app.config, world.app.static_folder)
        published = publishing.publish_briefing(world.session, briefing, press=press, actor=world.user("office"),
                                                now=beijing(2025, 10, 8, 10))
        assert published.render_error is None, published.render_error
        download = send(world, "own", "GET", f"/briefings/{world.briefing_draft}/pdf", keep=True)
    assert download.status_code == 200 and download.data.startswith(b"%PDF"), download.headers.get("Location")
    pdf_file = tmp_path / "briefing.pdf"
    pdf_file.write_bytes(download.data)
    from tests.briefings.conftest import poppler
    text = re.sub(r"\s+", "", poppler("pdftotext", "-enc", "UTF-8", pdf_file, "-"))
    for name, payload in PAYLOADS.items():
        visible = re.sub(r"[\s\u200b-\u200d\u2060]+", "", payload)  # a zero-width space is not drawn
        assert visible in text, f"the PDF does not show the {name} payload literally"


# --- the reminder email -----------------------------------------------------------------------------

@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_a_reminder_shows_markup_literally_in_subject_and_text_and_escaped_in_html(world, payload):
    text = PAYLOADS[payload]
    session = world.session
    with undone(session, world.storage):
        _return_own_report(world, reason=text)
        _unit_name(world, text)
        planner.plan_reminders(session, now=beijing(2025, 10, 16, 10), base_url="http://tracker.test",
                               sender="市政府办公室督查科 <duchake@tracker.local>")
        row = session.exec(select(OutboxMessage).where(OutboxMessage.unit_id == world.units[OWN_UNIT])
                           .order_by(OutboxMessage.id.desc())).first()
        assert row is not None and row.business_date.isoformat() == "2025-10-16"
        mime = message_from_bytes(build_email(row, "督查科 <d@tracker.local>"), policy=email_policy.default)
        subject, body_text = row.subject, row.body_text
        detail = send(world, "office", "GET", f"/mail/{row.id}", keep=True).get_data(as_text=True)
        frame = send(world, "office", "GET", f"/mail/{row.id}/html", keep=True)
    assert text in subject and text in mime["Subject"]
    assert text in body_text and mime.get_body(("plain",)).get_content().count(text) >= 2  # name and reason
    html = mime.get_body(("html",)).get_content()
    assert_shown_as_text(html, text, "the email's HTML part")
    assert_shown_as_text(detail, text, "the mail page")
    assert_shown_as_text(frame.get_data(as_text=True), text, "the mail frame")
    assert "sandbox" in frame.headers["Content-Security-Policy"]


def test_a_unit_name_with_a_line_break_cannot_forge_an_email_header_or_stop_the_queue(world):
    """Regression: a CR/LF in a unit name made EmailMessage raise, leaving the row `sending` and the queue stuck."""
    from tracker.agencies.models import Unit
    from tracker.reminders.mailer import MailboxMailer
    from tracker.reminders.outbox import send_outbox

    session = world.session
    with undone(session, world.storage):
        refused = send(world, "office", "POST", f"/units/{world.units[OWN_UNIT]}/edit", keep=True, data={
            "name": "新城区\r\nBcc: evil@example.com", "kind": "area"})
        assert refused.status_code == 422 and "不能含有换行或控制字符" in refused.get_data(as_text=True)
        session.get(Unit, world.units[OWN_UNIT]).name = "新城区\r\nBcc: evil@example.com"  # as an old row might be
        session.commit()
        planner.plan_reminders(session, now=beijing(2025, 10, 16, 10), base_url="http://tracker.test",
                               sender="督查科 <d@tracker.local>")
        result = send_outbox(session, mailer=MailboxMailer(world.tmp / "mailbox-crlf"), now=beijing(2025, 10, 16, 10),
                             worker="test", sender="督查科 <d@tracker.local>")
        row = session.exec(select(OutboxMessage).where(OutboxMessage.unit_id == world.units[OWN_UNIT])
                           .order_by(OutboxMessage.id.desc())).first()
        status = row.status.value
        mime = message_from_bytes(build_email(row, "督查科 <d@tracker.local>"), policy=email_policy.default)
    assert status == "sent" and result.sent >= 1
    assert "Bcc" not in mime.keys() and mime["To"] == "zhang@xincheng.example.gov.cn"


# --- Excel ------------------------------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


def assert_no_formula(workbook_bytes: bytes, texts: list[str], where: str) -> None:
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    seen = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith("="), f"{where}: {cell.coordinate} starts with '='"
                    seen.append(cell.value)
    for text in texts:
        assert any(text in value for value in seen), f"{where}: {text!r} is missing"


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_ledger_stores_formula_like_text_as_text(world, formula):
    with undone(world.session, world.storage):
        _report_text(world, formula)
        _unit_name(world, formula + "区")
        response = send(world, "office", "GET", f"/rounds/{world.round_id}/ledger.xlsx", keep=True)
    assert response.status_code == 200
    assert_no_formula(response.data, [formula, formula + "区"], "ledger")


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_evaluation_workbook_stores_formula_like_text_as_text(world, formula):
    with undone(world.session, world.storage):
        _unit_name(world, formula + "区")
        send(world, "coordinator", "POST", "/evaluations/measures/hohhot/2024", keep=True,
             data={f"score-{world.units[OWN_UNIT]}": "50", f"note-{world.units[OWN_UNIT]}": formula})
        computed = send(world, "coordinator", "POST", f"/evaluations/{world.evaluation_computed}/compute", keep=True)
        assert computed.status_code == 302
        latest = computed.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        response = send(world, "coordinator", "GET", f"/evaluations/{latest}/results.xlsx", keep=True)
    assert response.status_code == 200
    assert_no_formula(response.data, [formula + "区", formula], "evaluation workbook")


# --- SVG charts ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_a_chart_draws_markup_in_its_labels_as_text(payload):
    """Charts label bars with unit and indicator names: the SVG stays well-formed, with no script and no handler."""
    import xml.etree.ElementTree as ElementTree
    from decimal import Decimal

    from tracker.briefings import charts as briefing_charts
    from tracker.evaluations import charts as evaluation_charts

    text = PAYLOADS[payload]
    svgs = {"counts": briefing_charts.counts_chart([{"label": text, "count": 3}], title=text, name="late"),
            "indicator": evaluation_charts.indicator_chart(
                text, "吨标准煤", [2021, 2022, 2023], {2021: Decimal("1.2"), 2022: Decimal("1.1")}, baseline_year=2020,
                baseline=Decimal("1.3"), target_year=2025, target=Decimal("1.0"))}
    for name, svg in svgs.items():
        root = ElementTree.fromstring(svg)
        elements = list(root.iter())
        assert not any(str(e.tag).rsplit("}", 1)[-1] == "script" for e in elements), name
        assert not any(key.lower().startswith("on") for e in elements for key in e.attrib), name
        assert any(text in "".join(e.itertext()) for e in elements), f"{name}: the label is not drawn as text"
