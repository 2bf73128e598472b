"""Numbers per year at publication, and a published briefing that can never change."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tracker.briefings.models import Briefing, BriefingStatus
from tracker.briefings.services import drafts, publishing
from tracker.errors import Conflict, Invalid, PermissionDenied
from tests.briefings.conftest import PUBLISHED_AT, TINY_PDF, new_briefing


def publish(session, briefing, city, press):
    return publishing.publish_briefing(session, briefing, press=press, actor=city.office, now=PUBLISHED_AT)


def test_a_draft_has_no_number_until_it_is_published(session, city, fake_renderer):
    briefing = new_briefing(session, city)
    assert briefing.status is BriefingStatus.draft and briefing.number is None
    assert briefing.number_label == "2025年（发布时编号）"


def test_numbers_run_per_year_in_the_order_of_publication(session, city, press, fake_renderer):
    first = new_briefing(session, city, issue_date=date(2025, 10, 20))
    second = new_briefing(session, city, issue_date=date(2025, 12, 30))
    next_year = new_briefing(session, city, issue_date=date(2026, 1, 5))
    assert publish(session, second, city, press).number_label == "2025年第1期"
    assert publish(session, next_year, city, press).number_label == "2026年第1期"
    assert publish(session, first, city, press).number_label == "2025年第2期"
    assert "2025年第2期" in fake_renderer[-1]


def test_the_database_refuses_two_briefings_with_one_number(session, city):
    briefing = new_briefing(session, city)
    briefing.number = 1
    session.commit()
    twin = new_briefing(session, city)
    twin.number = 1
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_a_number_taken_while_rendering_makes_the_publisher_render_again_with_the_next(session, city, press,
                                                                                       monkeypatch):
    rival = new_briefing(session, city)
    mine = new_briefing(session, city)
    calls = []

    def render(html, **options):
        calls.append(html)
        if len(calls) == 1:  # another office worker publishes while we render
            session.exec(select(Briefing).where(Briefing.id == rival.id)).one().number = 1
        return TINY_PDF

    monkeypatch.setattr("tracker.briefings.services.publishing.pdf.render_pdf", render)
    published = publish(session, mine, city, press)
    assert published.number == 2 and len(calls) == 2
    assert "2025年第1期" in calls[0] and "2025年第2期" in calls[1]


def test_a_published_briefing_refuses_every_edit_and_a_second_publication(session, city, press, fake_renderer):
    briefing = publish(session, new_briefing(session, city), city, press)
    draft = drafts.Draft(round_id=city.round.id, evaluation_id=None, title="改过的标题", issue_date=date(2025, 10, 21))
    with pytest.raises(Conflict, match="已发布，不能再修改；如需更正，请另发一期通报"):
        drafts.update_briefing(session, briefing, draft, actor=city.office, now=PUBLISHED_AT)
    with pytest.raises(Conflict):
        publishing.request_publication(session, briefing, actor=city.office, now=PUBLISHED_AT)
    with pytest.raises(Conflict):
        publish(session, briefing, city, press)
    session.expire_all()
    stored = session.get(Briefing, briefing.id)
    assert stored.title == "关于2025年第三季度重点任务推进情况的通报" and stored.number == 1


def test_a_correction_is_a_new_briefing_with_the_next_number(session, city, press, fake_renderer):
    publish(session, new_briefing(session, city), city, press)
    correction = publish(session, new_briefing(session, city, opening="更正：上期通报中……"), city, press)
    assert correction.number_label == "2025年第2期"


def test_a_briefing_being_rendered_cannot_be_edited(session, city):
    briefing = new_briefing(session, city)
    publishing.request_publication(session, briefing, actor=city.office, now=PUBLISHED_AT)
    draft = drafts.Draft(round_id=city.round.id, evaluation_id=None, title="新标题", issue_date=date(2025, 10, 20))
    with pytest.raises(Conflict, match="正在生成 PDF"):
        drafts.update_briefing(session, briefing, draft, actor=city.office, now=PUBLISHED_AT)


@pytest.mark.parametrize("field, change, message", [
    ("title", {"title": "  "}, "请填写通报标题"),
    ("round_id", {"round_id": None}, "请选择要通报的调度"),
    ("issue_date", {"issue_date": None}, "请填写印发日期"),
    ("problems", {"problems": "长" * 5001}, "不能超过 5000 个字"),
])
def test_a_draft_is_refused_with_the_field_and_a_chinese_message(session, city, field, change, message):
    values = dict(round_id=city.round.id, evaluation_id=None, title="标题", issue_date=date(2025, 10, 20))
    with pytest.raises(Invalid) as refused:
        drafts.create_briefing(session, drafts.Draft(**{**values, **change}), actor=city.office, now=PUBLISHED_AT)
    assert refused.value.field == field and message in refused.value.message


def test_an_evaluation_of_another_plan_is_refused(session, city, make_user):
    from tests.briefings.conftest import build_city
    other = build_city(session, make_user, slug="other")
    draft = drafts.Draft(round_id=city.round.id, evaluation_id=other.evaluation.id, title="标题",
                         issue_date=date(2025, 10, 20))
    with pytest.raises(Invalid, match="不属于同一个计划"):
        drafts.create_briefing(session, draft, actor=city.office, now=PUBLISHED_AT)


@pytest.mark.parametrize("who", ["unit_user", "leader", "coordinator"])
def test_only_the_office_drafts_and_publishes(session, city, press, who):
    actor = getattr(city, who)
    draft = drafts.Draft(round_id=city.round.id, evaluation_id=None, title="标题", issue_date=date(2025, 10, 20))
    with pytest.raises(PermissionDenied):
        drafts.create_briefing(session, draft, actor=actor, now=PUBLISHED_AT)
    briefing = new_briefing(session, city)
    with pytest.raises(PermissionDenied):
        publishing.request_publication(session, briefing, actor=actor, now=PUBLISHED_AT)
    with pytest.raises(PermissionDenied):
        publishing.publish_briefing(session, briefing, press=press, actor=actor, now=PUBLISHED_AT)
