"""The client page's query compiled once per reader's scope and day (crm.prepared, issue 24).

A kept query that answered for the wrong scope would show a client, or a tab's count, that the
reader may not see: so the kept path is compared with the ORM's for every persona, for clients
of every branch, after a grant, under a suspension and on the next day; and it is shown to be
built once and reused, and rebuilt when the scope changes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.views import page_client_query
from crm import prepared
from crm.access import scope_fingerprint
from crm.models import Suspension, User
from tests.clients.factories import ClientFactory, ContactFactory, NeedFactory, ProjectFactory, VisitFactory
from tests.clients.grants import make_grant
from tests.complaints.conftest import make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive(org):
    out = {}
    for code in ("east", "south"):
        owner = org[f"{code}_staff"]
        clients = [ClientFactory(branch=org.branches[code], owner=owner) for _ in range(2)]
        for c in clients:
            ContactFactory.create_batch(2, client=c)
            ProjectFactory(client=c)
            NeedFactory(client=c)
            VisitFactory(client=c)
        make_complaint(org, code, client=clients[0])
        out[code] = clients
    out["colleague"] = ClientFactory(branch=org.branches["east"], owner=org["east_manager"])
    return out


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no scope snapshot cached on the object


def _state(obj):
    if obj is None:
        return None
    values = {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    related = {
        name: getattr(obj, name).pk if getattr(obj, name) else None
        for name in ("branch", "owner", "department")
    }
    return values, related


def _kept(user, pk):
    key = ("client-page-test", scope_fingerprint(user), timezone.localdate())
    return prepared.get(lambda pk: page_client_query(user).filter(pk=pk), key, pk)


def _orm(user, pk):
    return page_client_query(user).filter(pk=pk).first()


def _compare_all(org, clients):
    seen = 0
    for name in org.users:
        user = _fresh(org[name])
        for client in clients:
            kept, orm = _kept(user, client.pk), _orm(user, client.pk)
            assert _state(kept) == _state(orm), (name, client.pk)
            seen += kept is not None
    return seen


def test_the_kept_query_answers_as_the_orm_for_every_persona(org, archive):
    clients = [*archive["east"], *archive["south"], archive["colleague"]]
    seen = _compare_all(org, clients)
    assert seen > 0
    # The counts are real: east_staff sees their client's two contacts and one complaint.
    kept = _kept(_fresh(org["east_staff"]), archive["east"][0].pk)
    assert kept.tab_count_contacts == 2
    assert kept.tab_count_complaints == 1
    assert kept.branch == org.branches["east"]
    # Another branch's client is not there for a branch user, as with the ORM.
    assert _kept(_fresh(org["east_staff"]), archive["south"][0].pk) is None


def test_a_grant_and_a_suspension_change_what_the_kept_query_answers(org, archive):
    user = org["east_staff"]
    south = archive["south"][0]
    assert _kept(_fresh(user), south.pk) is None
    make_grant(org, user, south, active=True)
    granted = _kept(_fresh(user), south.pk)
    assert granted is not None and granted.pk == south.pk
    assert granted.tab_count_contacts == 2
    Suspension.objects.create(
        branch=org.branches["east"], kind=Suspension.Kind.ARCHIVE, reason="考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    suspended = _fresh(user)
    # R33: under the suspension only the clients the user owns; the grant is paused.
    assert _kept(suspended, south.pk) is None
    assert _kept(suspended, archive["colleague"].pk) is None
    assert _kept(suspended, archive["east"][0].pk) is not None
    _compare_all(org, [*archive["east"], *archive["south"], archive["colleague"]])


def test_the_next_day_compiles_again_with_its_dates(org, archive):
    user = _fresh(org["east_manager"])
    client = archive["east"][0]
    with time_machine.travel(dt.datetime(2027, 3, 1, 10, tzinfo=dt.UTC)):
        assert _state(_kept(user, client.pk)) == _state(_orm(user, client.pk))
    with time_machine.travel(dt.datetime(2027, 3, 2, 10, tzinfo=dt.UTC)):
        assert _state(_kept(user, client.pk)) == _state(_orm(user, client.pk))


def test_built_once_per_scope_and_rebuilt_when_it_changes(org, archive):
    built = []

    def build(user):
        def fn(pk):
            built.append(user.pk)
            return page_client_query(user).filter(pk=pk)

        return fn

    user = _fresh(org["east_staff"])
    key = ("client-page-count", scope_fingerprint(user), timezone.localdate())
    for client in archive["east"]:
        assert prepared.get(build(user), key, client.pk).pk == client.pk
    assert built == [user.pk]
    # A grant changes the fingerprint: a new key, a new build.
    before = scope_fingerprint(user)
    make_grant(org, user, archive["south"][0], active=True)
    again = _fresh(user)
    assert scope_fingerprint(again) != before
    assert prepared.get(build(again), ("client-page-count", scope_fingerprint(again)), archive["south"][0].pk)
    assert built == [user.pk, user.pk]
    # Bad keys find nothing rather than failing.
    assert prepared.get(build(again), ("x", scope_fingerprint(again)), "abc") is None


def test_a_query_that_does_not_take_the_key_once_is_refused(org, archive):
    user = _fresh(org["marketing"])
    with pytest.raises(ValueError):
        prepared.get(lambda pk: Client.objects.all(), ("no-key",), archive["east"][0].pk)
    with pytest.raises(ValueError):
        prepared.get(lambda pk: Client.objects.filter(pk=pk, owner_id=pk), ("twice", user.pk), 1)


def test_the_page_reads_the_client_in_one_query_after_the_first(org, archive):
    web = org.web("east_staff")
    client = archive["east"][0]
    url = reverse("clients:client-detail", kwargs={"pk": client.pk})
    assert web.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = web.get(url)
    assert response.status_code == 200
    assert response.context["client"].tab_count_contacts == 2
    client_reads = [q for q in ctx.captured_queries if 'FROM "clients_client"' in q["sql"]]
    assert len(client_reads) == 1
    assert len(ctx.captured_queries) <= 8
    # Out of scope stays a 404 through the kept query.
    other = reverse("clients:client-detail", kwargs={"pk": archive["south"][0].pk})
    assert web.get(other).status_code == 404
    assert web.get(reverse("clients:client-detail", kwargs={"pk": 987654321})).status_code == 404
