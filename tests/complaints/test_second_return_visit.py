"""R18: a key project's second return visit confirms the effect "within 2 months" of the
resolution, so it opens only CRM_SECOND_RETURN_VISIT_WINDOW_DAYS before it is due; until then the
complaint page says what still stands between the complaint and its closing."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from complaints import services

from .conftest import make_complaint


def _resolved_and_first_visit(org, key_project):
    manager = org["east_manager"]
    c = make_complaint(org, client=key_project.client, project=key_project, by=manager)
    c = services.complaint_acknowledge(complaint=c, by=manager)
    c = services.complaint_investigate(complaint=c, by=manager)
    c = services.complaint_resolve(complaint=c, by=manager, finding="our_fault", resolution="返修外墙防水")
    services.complaint_return_visit(complaint=c, by=manager, satisfaction="satisfied", notes="业主认可")
    c.refresh_from_db()
    return c, c.return_visits.get(sequence=2)


def test_second_visit_refused_before_its_window_then_recorded_and_closed(org, key_project, settings):
    settings.CRM_SECOND_RETURN_VISIT_WINDOW_DAYS = 14
    manager = org["east_manager"]
    c, second = _resolved_and_first_visit(org, key_project)
    opens = second.due_at - dt.timedelta(days=14)
    assert second.opens_at == opens and not second.is_open
    assert services.allowed_steps(manager, c) == ["hand_over", "reopen"]
    opens_day = f"{timezone.localtime(opens):%Y-%m-%d}"
    assert services.closing_blockers(c) == [
        f"第2次回访(确认整改效果)将于 {opens_day} 起可登记(期限 {timezone.localtime(second.due_at):%Y-%m-%d})。"
    ]
    with pytest.raises(ValidationError, match=f"将于 {opens_day} 起可登记"):
        services.complaint_return_visit(complaint=c, by=manager, satisfaction="very_satisfied")
    second.refresh_from_db()
    assert second.visited_at is None
    with time_machine.travel(opens - dt.timedelta(minutes=1), tick=False):
        with pytest.raises(ValidationError, match="起可登记"):
            services.complaint_return_visit(complaint=c, by=manager, satisfaction="very_satisfied")
    with time_machine.travel(opens + dt.timedelta(minutes=1), tick=False):
        c.refresh_from_db()
        assert "return_visit" in services.allowed_steps(manager, c)
        services.complaint_return_visit(
            complaint=c, by=manager, satisfaction="very_satisfied", effect_confirmed=True
        )
        c.refresh_from_db()
        assert services.closing_blockers(c) == []
        assert "close" in services.allowed_steps(manager, c)
        assert services.complaint_close(complaint=c, by=manager).status == "closed"


def test_window_is_configurable(org, key_project, settings):
    settings.CRM_SECOND_RETURN_VISIT_WINDOW_DAYS = 30
    c, second = _resolved_and_first_visit(org, key_project)
    assert second.opens_at == second.due_at - dt.timedelta(days=30)
    with time_machine.travel(second.due_at - dt.timedelta(days=29), tick=False):
        services.complaint_return_visit(complaint=c, by=org["east_manager"], satisfaction="satisfied")


def test_first_visit_opens_at_once_and_a_non_key_project_closes_after_it(org, east_client):
    manager = org["east_manager"]
    c = make_complaint(org, client=east_client, by=manager)
    c = services.complaint_acknowledge(complaint=c, by=manager)
    c = services.complaint_investigate(complaint=c, by=manager)
    c = services.complaint_resolve(complaint=c, by=manager, finding="client_error", resolution="已向业主解释")
    first = c.return_visits.get()
    assert first.opens_at is None and first.is_open
    assert services.closing_blockers(c) == [
        f"待登记第1次回访(期限 {timezone.localtime(first.due_at):%Y-%m-%d %H:%M})。"
    ]
    services.complaint_return_visit(complaint=c, by=manager, satisfaction="satisfied")
    c.refresh_from_db()
    assert services.closing_blockers(c) == [] and "close" in services.allowed_steps(manager, c)


def test_unsatisfied_client_is_named_as_the_blocker(org, east_client):
    manager = org["east_manager"]
    c = make_complaint(org, client=east_client, by=manager)
    c = services.complaint_acknowledge(complaint=c, by=manager)
    c = services.complaint_investigate(complaint=c, by=manager)
    c = services.complaint_resolve(complaint=c, by=manager, finding="our_fault", resolution="返修")
    services.complaint_return_visit(complaint=c, by=manager, satisfaction="unsatisfied")
    c.refresh_from_db()
    assert "客户对处理仍不满意" in services.closing_blockers(c)[0]
    assert "close" not in services.allowed_steps(manager, c)


def test_page_says_when_the_second_visit_opens_then_shows_the_close_button(org, key_project):
    c, second = _resolved_and_first_visit(org, key_project)
    web = org.web("east_manager")
    url = reverse("complaints:complaint-detail", kwargs={"pk": c.pk})
    html = web.get(url).content.decode()
    opens_day = f"{timezone.localtime(second.opens_at):%Y-%m-%d}"
    assert 'data-testid="closing-blockers"' in html and f"将于 {opens_day} 起可登记" in html
    assert 'data-step="return_visit"' not in html and 'data-step="close"' not in html
    # The step page refuses it too, with the message.
    step = reverse("complaints:complaint-step", kwargs={"pk": c.pk, "step": "return_visit"})
    r = web.post(step, {"satisfaction": "satisfied", "method": "phone"}, follow=True)
    assert "起可登记" in r.content.decode()
    second.refresh_from_db()
    assert second.visited_at is None
    with time_machine.travel(second.due_at - dt.timedelta(days=2), tick=False):
        web = org.web("east_manager")
        assert 'data-step="return_visit"' in web.get(url).content.decode()
        r = web.post(step, {"satisfaction": "satisfied", "method": "phone", "effect_confirmed": "on"})
        assert r.status_code == 302
        html = web.get(url).content.decode()
        assert 'data-step="close"' in html and 'data-testid="closing-blockers"' not in html
