"""The inline add forms of the client page (contacts, visits, needs) and the project form,
opened by their own URL: an ordinary page that posts, redirects to the client and shows field
errors with everything typed kept; and a one-time token in every add form, so that a submit
repeated with the same token (double clicks, a reload) records one row (issue 22)."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse

from clients.models import Contact, Need, Project, Visit

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db

NEED = {
    "description": "希望提前交付样板房",
    "category": "service",
    "origin": "initial",
    "urgency": "important",
    "received_at": "2026-09-28T10:00",
}


def _token(html: str) -> str:
    match = re.search(r'name="once_token" value="([0-9a-f]{32})"', html)
    assert match, "the form carries no one-time token"
    return match.group(1)


def _need_url(client):
    return reverse("clients:need-add", kwargs={"pk": client.pk})


def test_the_need_form_by_its_own_url_is_a_plain_page_that_posts_and_redirects(org):
    c = make_client(org)
    web = org.web("east_staff")
    page = web.get(_need_url(c))
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "clients/inline_form_page.html"
    html = page.content.decode()
    # No htmx post: its answer would refresh a tab that this page does not have.
    assert "hx-post" not in html and f'action="{_need_url(c)}"' in html
    response = web.post(_need_url(c), {**NEED, "once_token": _token(html)})
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:client-tab", kwargs={"pk": c.pk, "tab": "needs"})
    assert Need.objects.get().description == NEED["description"]


def test_the_same_token_posted_three_times_records_one_need(org):
    c = make_client(org)
    web = org.web("east_staff")
    token = _token(web.get(_need_url(c)).content.decode())
    answers = [web.post(_need_url(c), {**NEED, "once_token": token}) for _ in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 302]
    assert Need.objects.filter(client=c).count() == 1
    # The repeat tells the user nothing more was saved; a new form (a new token) adds another.
    page = web.get(answers[-1]["Location"]).content.decode()
    assert "此表单已提交过,未重复保存。" in page
    fresh = _token(web.get(_need_url(c)).content.decode())
    assert fresh != token
    assert web.post(_need_url(c), {**NEED, "once_token": fresh}).status_code == 302
    assert Need.objects.filter(client=c).count() == 2


def test_an_invalid_post_keeps_what_was_typed_and_marks_the_field(org):
    c = make_client(org)
    web = org.web("east_staff")
    token = _token(web.get(_need_url(c)).content.decode())
    bad = web.post(_need_url(c), {**NEED, "urgency": "", "once_token": token})
    assert bad.status_code == 200 and not Need.objects.exists()
    assert [t.name for t in bad.templates][0] == "clients/inline_form_page.html"
    html = bad.content.decode()
    assert "urgency" in bad.context["form"].errors and 'data-testid="error-urgency"' in html
    assert NEED["description"] in html and 'value="2026-09-28T10:00"' in html
    assert re.search(r'<select name="urgency"[^>]*is-invalid', html)
    # The token was not spent by the refusal: the corrected form saves, once.
    assert _token(html) == token
    for _ in range(2):
        assert web.post(_need_url(c), {**NEED, "once_token": token}).status_code == 302
    assert Need.objects.count() == 1


def test_htmx_from_the_client_page_refreshes_the_tab_and_a_repeat_adds_nothing(org):
    c = make_client(org)
    web = org.web("east_staff")
    detail = reverse("clients:client-tab", kwargs={"pk": c.pk, "tab": "needs"})  # the tab's address
    hx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{detail}"}
    form = web.get(_need_url(c), **hx).content.decode()
    assert "hx-post" in form
    token = _token(form)
    first = web.post(_need_url(c), {**NEED, "once_token": token}, **hx)
    assert first.status_code == 200 and first["HX-Retarget"] == "#tab-body-needs"
    assert _token(first.content.decode()) != token  # the tab's fresh form has a new token
    again = web.post(_need_url(c), {**NEED, "once_token": token}, **hx)
    assert again.status_code == 200 and "此表单已提交过,未重复保存。" in again.content.decode()
    assert Need.objects.count() == 1


def test_htmx_post_from_a_page_without_the_tab_redirects_to_the_client(org):
    """A standalone page rendered with htmx attributes (e.g. kept open from before) must not
    save silently into a target that is not there: the browser is sent to the client."""
    c = make_client(org)
    web = org.web("east_staff")
    hx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{_need_url(c)}"}
    response = web.post(_need_url(c), NEED, **hx)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("clients:client-tab", kwargs={"pk": c.pk, "tab": "needs"})
    assert Need.objects.count() == 1


@pytest.mark.parametrize(
    ("url_name", "model", "data"),
    [
        ("clients:contact-add", Contact, {"name": "张三", "phone": "138 0013 8000"}),
        ("clients:visit-add", Visit, {"visited_at": "2026-11-20T10:00", "channel": "visit", "notes": "介绍"}),
        (
            "clients:project-create",
            Project,
            {
                "name": "园区二期",
                "project_type": "commercial",
                "phase": "design",
                "contract_value": "1000000",
            },
        ),
    ],
)
def test_the_other_add_forms_save_a_token_once(org, url_name, model, data):
    c = make_client(org)
    web = org.web("east_staff")
    url = reverse(url_name, kwargs={"pk": c.pk})
    if model is Project:
        data = {**data, "branch": c.branch_id, "cost": "800000"}
    token = _token(web.get(url).content.decode())
    for _ in range(3):
        assert web.post(url, {**data, "once_token": token}).status_code == 302
    assert model.objects.count() == 1


def test_edit_forms_carry_no_token(org):
    c = make_client(org)
    web = org.web("east_staff")
    web.post(_need_url(c), NEED)  # a POST without a token saves as before
    need = Need.objects.get()
    html = web.get(reverse("clients:need-edit", kwargs={"pk": need.pk})).content.decode()
    assert 'name="once_token"' not in html


@pytest.mark.django_db(transaction=True)
def test_parallel_submits_of_one_token_record_one_need(org):
    """Two requests with the same token at the same moment (two clicks, two workers): the
    token is taken under a lock inside the transaction, so the second finds it."""
    assert connection.vendor == "postgresql", "parallel writers need PostgreSQL (make test runs on it)"
    c = make_client(org)
    user = org["east_staff"]
    token = _token(org.web("east_staff").get(_need_url(c)).content.decode())
    barrier = threading.Barrier(3)
    codes = []

    def post():
        try:
            web = DjangoClient()
            web.force_login(user)
            barrier.wait()
            codes.append(web.post(_need_url(c), {**NEED, "once_token": token}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [302, 302, 302]
    assert Need.objects.filter(client=c).count() == 1
