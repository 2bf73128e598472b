"""One world for the whole attack suite, and a way to send a request that leaves no trace.

The world is the real Hohhot plan imported with the seed units directory, an open round, a unit's submitted report
with an attachment, the lead's consolidated report, a published and a computed evaluation, a published and a draft
briefing, a queued reminder, a contact, an alias, a calendar override and an API token for everyone. It is built once
for the package on a connection of its own (inside a transaction rolled back at the end), and every request of a
test runs inside a savepoint that is rolled back after it (`undone`), so a POST that succeeds never changes what the
next case sees. Tests here must not use the function-scoped `session`, `app` or `client` fixtures as well (on SQLite
their connection would wait for the world's).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from config import TestConfig
from tracker import create_app
from tracker.accounts import tokens
from tracker.accounts.models import User, UserRole
from tracker.accounts.services import COMMAND_LINE
from tracker.agencies import contacts, edits
from tracker.agencies.models import Unit, UnitGroup, UnitKind
from tracker.audit.models import AuditEvent
from tracker.briefings import pdf as briefing_pdf
from tracker.briefings.services import drafts, publishing
from tracker.db import Database
from tracker.evaluations.services import lifecycle, publish
from tracker.reminders import planner, services as reminders
from tracker.reminders.models import OutboxMessage
from tracker.reporting.models import RoundAssignment, TaskProgress
from tracker.reporting.services import reports, reviews, rounds
from tracker.tasks import importer
from tracker.tasks.models import Indicator, Plan, Task
from tracker.time import PLAN_TZ
from tests.conftest import HOHHOT, ROOT
from tests.factories import _TEST_HASH

#: the columns of the access matrix, in its order
ROLES = ("anonymous", "office", "coordinator", "leader", "own", "lead", "other", "disabled")
#: the unit whose report is the object ("own"), the task's lead unit, and a unit with no part in that task
OWN_UNIT, LEAD_UNIT, OTHER_UNIT = "新城区", "市住房和城乡建设局", "市水务局"
TASK_KEY = "2.3"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TINY_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
            b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
            b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\n"
            b"trailer <</Root 1 0 R>>\n%%EOF\n")


#: WeasyPrint, kept before the world's fixture swaps in a renderer that makes a tiny PDF at once
REAL_RENDER_PDF = briefing_pdf.render_pdf


def beijing(year, month, day, hour=9, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PLAN_TZ).astimezone(timezone.utc)


#: when the pages run: two days before the round's due date, a working day, inside the mail window
PAGE_NOW = beijing(2025, 10, 8, 10)
BUILT_AT = beijing(2025, 10, 1, 10)


@dataclass
class World:
    app: object
    session: Session
    storage: Path
    tmp: Path
    plan_id: int = 0
    slug: str = "hohhot"
    task_id: int = 0
    other_task_id: int = 0
    round_id: int = 0
    units: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)         #: role -> user id
    cookies: dict = field(default_factory=dict)       #: role -> Flask-Login id ("7:0")
    secrets: dict = field(default_factory=dict)       #: role -> API token secret
    token_ids: dict = field(default_factory=dict)     #: role -> API token id
    own_assignment: int = 0
    lead_assignment: int = 0
    other_assignment: int = 0
    report_id: int = 0
    attachment_id: int = 0
    task_report_id: int = 0
    evaluation_published: int = 0
    evaluation_computed: int = 0
    briefing_published: int = 0
    briefing_draft: int = 0
    message_id: int = 0
    contact_id: int = 0
    alias_id: int = 0
    group_id: int = 0
    indicator_id: int = 0
    override_day: str = "2025-10-11"
    cache: dict = field(default_factory=dict)

    def user(self, role: str) -> User:
        return self.session.get(User, self.users[role])


def _user(session, role: UserRole, unit_id: int, username: str) -> User:
    user = User(username=username, display_name=f"{username}的姓名", unit_id=unit_id, role=role,
                email=f"{username}@example.gov.cn", password_hash=_TEST_HASH, is_active=True,
                created_dt=BUILT_AT, password_changed_dt=BUILT_AT)
    session.add(user)
    session.flush()
    return user


def build_world(session: Session, app, storage: Path, tmp: Path) -> World:
    """Everything the attack suite points at; see the module docstring."""
    from tracker.agencies.services import read_directory

    world = World(app=app, session=session, storage=storage, tmp=tmp)
    importer.import_plan(session, HOHHOT.read_bytes(), filename=HOHHOT.name, slug="hohhot",
                         directory=read_directory(ROOT / "seed" / "hohhot-units.json"), actor=COMMAND_LINE,
                         now=BUILT_AT)
    plan = session.exec(select(Plan).where(Plan.slug == "hohhot")).one()
    world.plan_id = plan.id
    units = {u.name: u for u in session.exec(select(Unit)).all()}
    decoy = Unit(name="市诱饵测试局", kind=UnitKind.department, created_dt=BUILT_AT)  # in no task, with no user
    session.add(decoy)
    session.flush()
    units[decoy.name] = decoy
    world.units = {name: unit.id for name, unit in units.items()}
    office_unit = units["市政府办公室"].id if "市政府办公室" in units else units[LEAD_UNIT].id
    people = {"office": (UserRole.office, office_unit), "coordinator": (UserRole.coordinator, units["市发展改革委"].id),
              "leader": (UserRole.leader, office_unit), "own": (UserRole.unit, units[OWN_UNIT].id),
              "lead": (UserRole.unit, units[LEAD_UNIT].id), "other": (UserRole.unit, units[OTHER_UNIT].id),
              "disabled": (UserRole.office, office_unit)}
    made = {role: _user(session, kind, unit_id, f"sec-{role}") for role, (kind, unit_id) in people.items()}
    for role, user in made.items():
        token, secret = tokens.create_token(session, user, name=f"{role}的令牌", actor=user, now=BUILT_AT)
        world.secrets[role], world.token_ids[role], world.users[role] = secret, token.id, user.id
    made["disabled"].is_active = False
    world.cookies = {role: user.get_id() for role, user in made.items()}

    task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.key == TASK_KEY)).one()
    other_task = session.exec(select(Task).where(Task.plan_id == plan.id, Task.key == "2.1")).one()
    world.task_id, world.other_task_id = task.id, other_task.id
    reporting_round = rounds.open_round(session, plan, label="2025年第三季度调度", period_start=date(2025, 7, 1),
                                        period_end=date(2025, 9, 30), due_date=date(2025, 10, 10),
                                        actor=COMMAND_LINE, now=BUILT_AT)
    world.round_id = reporting_round.id

    def assignment(task_id, unit_name):
        return session.exec(select(RoundAssignment.id).where(
            RoundAssignment.round_id == reporting_round.id, RoundAssignment.task_id == task_id,
            RoundAssignment.unit_id == units[unit_name].id)).one()

    world.own_assignment = assignment(task.id, OWN_UNIT)
    world.lead_assignment = assignment(task.id, LEAD_UNIT)
    world.other_assignment = assignment(other_task.id, OTHER_UNIT)
    own = made["own"]
    view = reports.get_assignment(session, world.own_assignment, actor=own)
    report = reports.save_report(session, view, progress_text="新城区本期进展：完成改造12万平方米。", values={},
                                 submit=False, actor=own, now=BUILT_AT)
    view = reports.get_assignment(session, world.own_assignment, actor=own)
    attachment = reports.add_attachment(session, view, filename="佐证材料.pdf", data=PDF, storage_dir=storage,
                                        max_bytes=1024 * 1024, actor=own, now=BUILT_AT)
    view = reports.get_assignment(session, world.own_assignment, actor=own)
    reports.save_report(session, view, progress_text="新城区本期进展：完成改造12万平方米。", values={}, submit=True,
                        actor=own, now=BUILT_AT)
    world.report_id, world.attachment_id = report.id, attachment.id
    review = reviews.get_task_review(session, reporting_round.id, task.id, actor=made["lead"])
    task_report = reviews.submit_task_report(session, review, progress=TaskProgress.in_progress, progress_pct="40",
                                             narrative="牵头单位汇总：各区按计划推进。", light_override=None,
                                             light_override_reason=None, actor=made["lead"], now=BUILT_AT)
    world.task_report_id = task_report.id

    published = lifecycle.run_evaluation(session, plan, kind="annual", year=2023, actor=COMMAND_LINE, now=BUILT_AT)
    publish.publish_evaluation(session, published, actor=COMMAND_LINE, now=BUILT_AT)
    computed = lifecycle.run_evaluation(session, plan, kind="annual", year=2024, actor=COMMAND_LINE, now=BUILT_AT)
    world.evaluation_published, world.evaluation_computed = published.id, computed.id

    office = made["office"]
    press = publishing.Press(storage_dir=storage, static_folder=Path(app.static_folder), issuer="呼和浩特市人民政府办公室")
    first = drafts.create_briefing(session, drafts.Draft(round_id=reporting_round.id, evaluation_id=published.id,
                                                         title="关于2025年第三季度重点任务推进情况的通报",
                                                         issue_date=date(2025, 10, 1), opening="开头语。"),
                                   actor=office, now=BUILT_AT)
    publishing.publish_briefing(session, first, press=press, actor=office, now=BUILT_AT)
    draft = drafts.create_briefing(session, drafts.Draft(round_id=reporting_round.id, evaluation_id=None,
                                                         title="尚未发布的通报草稿", issue_date=date(2025, 10, 2)),
                                   actor=office, now=BUILT_AT)
    world.briefing_published, world.briefing_draft = first.id, draft.id

    own_unit = session.get(Unit, units[OWN_UNIT].id)
    contact = contacts.add_contact(session, own_unit, fields=contacts.ContactFields(
        name="张联络", email="zhang@xincheng.example.gov.cn", phone="0471-1234567"), actor=office, now=BUILT_AT)
    world.contact_id = contact.id
    alias = edits.add_alias(session, own_unit, alias="新城区人民政府办公室", actor=office, now=BUILT_AT)
    world.alias_id = alias.id
    world.group_id = session.exec(select(UnitGroup.id).order_by(UnitGroup.id)).first()
    world.indicator_id = session.exec(select(Indicator.id).where(Indicator.plan_id == plan.id)
                                      .order_by(Indicator.position)).first()
    reminders.set_override(session, day=date.fromisoformat(world.override_day), is_working_day=True, note="调休上班",
                           actor=office, now=BUILT_AT)
    planner.plan_reminders(session, now=beijing(2025, 10, 15, 10), base_url="http://tracker.test",
                           sender="市政府办公室督查科 <duchake@tracker.local>")
    world.message_id = session.exec(select(OutboxMessage.id).where(OutboxMessage.unit_id == units[OWN_UNIT].id)
                                    .order_by(OutboxMessage.id)).first()
    assert world.message_id, "the planner queued no reminder for the own unit"
    session.commit()
    return world


@pytest.fixture(scope="package")
def world(engine, tmp_path_factory):
    """The suite's world (see the module docstring), its app at PAGE_NOW, and a renderer that makes a tiny PDF.

    Built once for tests/security and rolled back after it: every test leaves it as it found it (`undone`)."""
    tmp = tmp_path_factory.mktemp("security")
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    class Config(TestConfig):
        INSTANCE_DIR = tmp
        STORAGE_DIR = tmp / "storage"
        MAILBOX_DIR = tmp / "mailbox"
        DATABASE_URL = str(engine.url)

    app = create_app(Config, database=Database(engine, lambda: session, shared=True))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tracker.time.now", lambda: PAGE_NOW)
        patch.setattr("tracker.briefings.services.publishing.pdf.render_pdf", lambda html, **options: TINY_PDF)
        try:
            yield build_world(session, app, Config.STORAGE_DIR, tmp)
        finally:
            session.close()
            outer.rollback()
            connection.close()


@contextmanager
def configured(world: World, **settings):
    """Change the app's settings for a block (the app is shared by the whole suite)."""
    saved = {name: world.app.config[name] for name in settings}
    world.app.config.update(settings)
    try:
        yield
    finally:
        world.app.config.update(saved)


@contextmanager
def undone(session: Session, storage: Path | None = None):
    """Run a block whose writes are all rolled back afterwards, even those the services committed; files the block
    added under `storage` (evidence, archived PDFs, pending imports) are removed with the rows that named them."""
    session.commit()
    kept = _files(storage)
    savepoint = session.bind.begin_nested()
    try:
        yield
    finally:
        session.rollback()
        if savepoint.is_active:
            savepoint.rollback()
        session.expire_all()
        for path in _files(storage) - kept:
            path.unlink(missing_ok=True)


def _files(storage: Path | None) -> set[Path]:
    return {p for p in storage.rglob("*") if p.is_file()} if storage is not None and storage.exists() else set()


def client_for(world: World, role: str):
    """A test client with `role`'s session cookie (none for anonymous)."""
    client = world.app.test_client()
    if role != "anonymous":
        with client.session_transaction() as cookie:
            cookie["_user_id"] = world.cookies[role]
            cookie["_fresh"] = True
            cookie["login_dt"] = cookie["seen_dt"] = PAGE_NOW.isoformat()
    return client


def bearer(world: World, role: str) -> dict:
    return {} if role == "anonymous" else {"Authorization": f"Bearer {world.secrets[role]}"}


def send(world: World, role: str, method: str, path: str, *, data=None, api: bool = False, keep: bool = False,
         client=None, **options):
    """Send one request as `role` (a cookie, or a bearer token for the API) and undo what it changed."""
    client = client or (world.app.test_client() if api else client_for(world, role))
    headers = {**(bearer(world, role) if api else {}), **options.pop("headers", {})}
    if keep:
        return client.open(path, method=method, data=data, headers=headers, **options)
    with undone(world.session, world.storage):
        response = client.open(path, method=method, data=data, headers=headers, **options)
        response.get_data()
    return response


#: the outcome vocabulary of the access matrix (see access_matrix.py)
def outcome(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307):
        return "login" if urlsplit(response.headers.get("Location", "")).path == "/login" else "redirect"
    return {200: "ok", 400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "hidden", 405: "method",
            409: "conflict", 422: "invalid", 413: "too-large"}.get(status, f"status-{status}")


def text_of(response) -> str:
    import html
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


#: columns that change on a legitimate read (a token's last use), not on an attack
VOLATILE = {"last_used_dt", "last_login_dt"}
#: written only by the plan import and the round opening: compared by row count (the rest row by row)
BULKY = {"tasks", "task_assignments", "task_groups", "targets", "plan_sections", "area_targets", "indicators",
         "plan_imports", "round_assignments", "evaluation_area_results", "evaluation_task_results"}


def database_state(world, *, audit: bool = True) -> dict:
    """What an attack must leave as it was: every row of every table (a row count for the bulky ones the plan
    import writes), the audit entries other than denials (unless `audit` is false), and the files in storage.
    The audit log's denials and the login attempts are left out: refusing is allowed to leave a trace."""
    session = world.session
    session.expire_all()
    state = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in ("audit_events", "login_attempts"):
            continue
        if table.name in BULKY:
            state[table.name] = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            continue
        columns = [column for column in table.columns if column.name not in VOLATILE]
        state[table.name] = session.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
    if audit:
        state["audit events other than denials"] = session.execute(
            select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action != "permission.denied")).one()
    state["files"] = sorted(str(p.relative_to(world.storage)) for p in world.storage.rglob("*") if p.is_file())
    return state


def world_state(world, *, audit: bool = True) -> dict:
    """The world's state as built (every test undoes what it did, so it never changes): computed once."""
    key = ("state", audit)
    if key not in world.cache:
        with undone(world.session, world.storage):
            world.cache[key] = database_state(world, audit=audit)
    return world.cache[key]


def changes(world, *, audit: bool = True) -> list[str]:
    """The names of the tables (and "files") that differ from the world as built."""
    before, after = world_state(world, audit=audit), database_state(world, audit=audit)
    return [name for name in before if before[name] != after[name]]
