"""Rendering off the request path: 发布 queues a job, one worker claims it (atomically, with a lease), publishes."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import Session, select

from config import TestConfig
from tracker import create_app
from tracker.accounts.models import User, UserRole
from tracker.briefings import jobs
from tracker.briefings.models import Briefing, BriefingStatus, JobStatus, RenderJob
from tracker.briefings.services import archive, publishing
from tracker.scheduler import build_scheduler
from tests.briefings.conftest import (PUBLISHED_AT, RENDER_PDF, STATIC, TINY_PDF, break_renderer, build_city,
                                      new_briefing, storage_files)
from tests.factories import _TEST_HASH


def queue(session, city, count: int = 1) -> list[Briefing]:
    made = []
    for _ in range(count):
        briefing = new_briefing(session, city)
        publishing.request_publication(session, briefing, actor=city.office, now=PUBLISHED_AT)
        made.append(briefing)
    return made


def test_publishing_in_the_browser_only_queues_a_job(session, city):
    briefing = queue(session, city)[0]
    job = session.exec(select(RenderJob).where(RenderJob.briefing_id == briefing.id)).one()
    assert briefing.status is BriefingStatus.rendering and briefing.published_by_id == city.office.id
    assert job.status is JobStatus.queued and briefing.number is None


def test_the_worker_renders_a_queued_briefing_and_publishes_it(session, city, press):
    briefing = queue(session, city)[0]
    done = publishing.render_next_briefing(session, press=press, worker="w1", now=PUBLISHED_AT + timedelta(seconds=5))
    assert done.id == briefing.id and done.status is BriefingStatus.published and done.number_label == "2025年第1期"
    assert done.published_by_id == city.office.id and done.published_dt == PUBLISHED_AT + timedelta(seconds=5)
    job = session.exec(select(RenderJob).where(RenderJob.briefing_id == briefing.id)).one()
    assert (job.status, job.claimed_by, job.attempts, job.lease_until) == (JobStatus.done, "w1", 1, None)
    path = archive.stored_path(press.storage_dir, done.pdf_stored_name)
    assert archive.sha256_of(path.read_bytes()) == done.pdf_sha256
    assert publishing.render_next_briefing(session, press=press, worker="w1", now=PUBLISHED_AT) is None


def test_a_worker_that_fails_to_render_records_why_on_the_briefing_and_the_job(session, city, press, monkeypatch):
    briefing = queue(session, city)[0]

    break_renderer(monkeypatch, RuntimeError("an unexpected failure"))
    failed = publishing.render_next_briefing(session, press=press, worker="w1", now=PUBLISHED_AT)
    assert failed.status is BriefingStatus.failed and "内部错误（RuntimeError）" in failed.render_error
    job = session.exec(select(RenderJob).where(RenderJob.briefing_id == briefing.id)).one()
    assert job.status is JobStatus.failed and job.error == failed.render_error
    assert storage_files(press.storage_dir) == []


def test_a_failed_briefing_may_be_queued_again(session, city, press, monkeypatch):
    briefing = queue(session, city)[0]
    break_renderer(monkeypatch, publishing.pdf.RenderError("缺少字体"))
    publishing.render_next_briefing(session, press=press, worker="w1", now=PUBLISHED_AT)
    assert briefing.status is BriefingStatus.failed
    monkeypatch.setattr(RENDER_PDF, lambda html, **options: TINY_PDF)
    publishing.request_publication(session, briefing, actor=city.office, now=PUBLISHED_AT)
    assert briefing.status is BriefingStatus.rendering and briefing.render_error is None
    assert publishing.render_next_briefing(session, press=press, worker="w1", now=PUBLISHED_AT).number == 1


def test_a_job_whose_worker_died_is_queued_again_after_its_lease_and_given_up_after_three_tries(session, city):
    briefing = queue(session, city)[0]
    for attempt in range(1, 4):
        assert publishing.claim_render_job(session, worker=f"dead{attempt}", now=PUBLISHED_AT) is not None
        later = PUBLISHED_AT + publishing.LEASE + timedelta(seconds=1)
        assert publishing.release_expired_render_jobs(session, now=PUBLISHED_AT) == 0
        assert publishing.release_expired_render_jobs(session, now=later) == 1
    job = session.exec(select(RenderJob).where(RenderJob.briefing_id == briefing.id)).one()
    assert job.status is JobStatus.failed and job.attempts == 3
    session.refresh(briefing)
    assert briefing.status is BriefingStatus.failed and "3 次都没有完成" in briefing.render_error


def test_the_scheduler_claims_render_jobs_every_five_seconds(app):
    scheduler = build_scheduler(app)
    job = scheduler.get_job("render_queued_briefings")
    assert job is not None and job.trigger.interval == timedelta(seconds=5)


# --- two workers on a database of their own ------------------------------------------------------------

def seeded(engine, jobs_count: int) -> list[int]:
    """A city and `jobs_count` queued briefings, committed for real."""
    with Session(engine, expire_on_commit=False) as session:
        counter = iter(range(1000))

        def make_user(role=UserRole.unit, *, unit=None):
            from tracker.agencies.models import Unit
            unit = unit or Unit(name=f"用户单位{next(counter)}", created_dt=PUBLISHED_AT)
            session.add(unit)
            session.flush()
            user = User(username=f"u{next(counter)}", display_name="测试", unit_id=unit.id, role=role,
                        email="u@example.gov.cn", password_hash=_TEST_HASH, created_dt=PUBLISHED_AT,
                        password_changed_dt=PUBLISHED_AT)
            session.add(user)
            session.flush()
            return user

        city = build_city(session, make_user)
        return [b.id for b in queue(session, city, jobs_count)]


def test_one_job_is_claimed_by_exactly_one_of_two_workers(standalone_database):
    _, engine = standalone_database
    seeded(engine, 1)
    with Session(engine) as first, Session(engine) as second:
        claimed = [publishing.claim_render_job(first, worker="a", now=PUBLISHED_AT),
                   publishing.claim_render_job(second, worker="b", now=PUBLISHED_AT)]
    assert claimed[0] is not None and claimed[1] is None


def test_a_claim_takes_one_job_and_leaves_the_others_queued(standalone_database):
    _, engine = standalone_database
    seeded(engine, 3)
    with Session(engine) as session:
        first = publishing.claim_render_job(session, worker="a", now=PUBLISHED_AT)
        statuses = dict(session.exec(select(RenderJob.id, RenderJob.status)).all())
    assert statuses.pop(first) is JobStatus.running
    assert list(statuses.values()) == [JobStatus.queued, JobStatus.queued]


def test_two_workers_racing_over_twenty_jobs_never_claim_one_twice(standalone_database):
    _, engine = standalone_database
    seeded(engine, 20)
    claims: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(name):
        try:
            with Session(engine) as session:
                start.wait()
                while (job_id := publishing.claim_render_job(session, worker=name, now=PUBLISHED_AT)) is not None:
                    claims[name].append(job_id)
        except BaseException as exc:  # a worker that crashed would hide behind the other one's claims
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    everything = claims["a"] + claims["b"]
    assert len(everything) == 20 and len(set(everything)) == 20
    with Session(engine) as session:
        rows = session.exec(select(RenderJob)).all()
    assert all(row.status is JobStatus.running and row.attempts == 1 for row in rows)
    assert {row.id for row in rows if row.claimed_by == "a"} == set(claims["a"])


def test_the_scheduler_job_publishes_what_was_queued(standalone_database, tmp_path, monkeypatch):
    url, engine = standalone_database
    briefing_ids = seeded(engine, 2)

    class Config(TestConfig):
        DATABASE_URL = url
        INSTANCE_DIR = tmp_path
        STORAGE_DIR = tmp_path / "storage"
        BRIEFING_ISSUER = "某市人民政府办公室"

    monkeypatch.setattr(RENDER_PDF, lambda html, **options: TINY_PDF)
    app = create_app(Config)
    try:
        jobs.render_queued_briefings(app)
    finally:
        app.extensions["tracker_db"].engine.dispose()
    with Session(engine) as session:
        published = session.exec(select(Briefing).where(Briefing.id.in_(briefing_ids)).order_by(Briefing.id)).all()
        assert [(b.status, b.number) for b in published] == [(BriefingStatus.published, 1),
                                                              (BriefingStatus.published, 2)]
        assert published[0].snapshot["issuer"] == "某市人民政府办公室"
    assert len(storage_files(tmp_path / "storage")) == 2


def test_two_publishers_at_once_never_share_a_number(standalone_database, tmp_path, monkeypatch):
    _, engine = standalone_database
    briefing_ids = seeded(engine, 2)
    press = publishing.Press(storage_dir=tmp_path / "storage", static_folder=STATIC)
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    rendered: list[str] = []
    first = threading.local()

    def slow_render(html, **options):
        rendered.append(html)
        if not getattr(first, "done", False):
            first.done = True
            start.wait(timeout=30)  # both have read the same next number before either writes
        return TINY_PDF

    monkeypatch.setattr(RENDER_PDF, slow_render)

    def publish(briefing_id):
        try:
            with Session(engine, expire_on_commit=False) as session:
                briefing = session.get(Briefing, briefing_id)
                publishing.publish_briefing(session, briefing, press=press, actor=publishing.RENDER_WORKER,
                                            now=PUBLISHED_AT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(briefing_id,)) for briefing_id in briefing_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session(engine) as session:
        numbers = sorted(session.exec(select(Briefing.number).where(Briefing.id.in_(briefing_ids))).all())
    assert numbers == [1, 2]
    assert len(storage_files(tmp_path / "storage")) == 2
    assert len(rendered) == 3 and "2025年第2期" in rendered[-1]  # the loser rendered again with the next number
