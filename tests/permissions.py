"""The inherited permission matrix (style.md 10; NetBox utilities/testing).

One subclass per model yields, for its pages and API routes:
anonymous (login / 401) - no role (403) - own branch (200, listed) - other branch (404, not
listed) - group roles (200) - and, where grants apply, an active grant (200) and an expired
one (404). Write routes: a refused write answers 403/404 and changes nothing.

Every subclass names the URL names it covers in ``covers``; ``tests/test_route_coverage.py``
walks the URL resolver and fails on a route no matrix (or ``ROUTES_COVERED`` list) names.

Subclass like this::

    class TestClientMatrix(ObjectMatrix):
        model = Client
        list_route = "clients:client-list"
        detail_route = "clients:client-detail"
        api_list_route = "client-list"          # DRF router names
        api_detail_route = "client-detail"
        covers = {...}

        def make(self, org, branch_code):
            return ClientFactory(branch=org.branches[branch_code], owner=org[f"{branch_code}_staff"])
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from django.urls import resolve, reverse

# Personas: the object lives in branch "east".
OWN = "east_staff"
OWN_MANAGER = "east_manager"
OTHER = "south_staff"
GROUP_READERS = ("marketing", "leader", "auditor")


def grant_access(org, user, client, *, active: bool):
    """Give ``user`` an approved grant to ``client``: active now, or already expired (R5).
    Goes through the real request workflow of the access issue."""
    from tests.clients.grants import make_grant  # provided by the access-control work

    return make_grant(org, user, client, active=active)


class ObjectMatrix:
    model: ClassVar = None
    list_route: ClassVar[str | None] = None
    detail_route: ClassVar[str | None] = None
    api_list_route: ClassVar[str | None] = None
    api_detail_route: ClassVar[str | None] = None
    grants_apply: ClassVar[bool] = True
    covers: ClassVar[set[str]] = set()

    def make(self, org, branch_code):
        raise NotImplementedError

    def client_of(self, obj):
        """The client an object belongs to, for grants."""
        return obj if obj.__class__.__name__ == "Client" else obj.client

    # -- helpers ---------------------------------------------------------------------------
    def _detail(self, obj):
        return reverse(self.detail_route, kwargs={"pk": obj.pk})

    def _api_detail(self, obj):
        return reverse(self.api_detail_route, kwargs={"pk": obj.pk})

    def _api_ids(self, response):
        data = response.json()
        rows = data["results"] if isinstance(data, dict) else data
        return {row["id"] for row in rows}

    # -- pages -------------------------------------------------------------------------------
    def test_page_anonymous_redirects_to_login(self, org):
        obj = self.make(org, "east")
        for url in filter(
            None, [self.list_route and reverse(self.list_route), self.detail_route and self._detail(obj)]
        ):
            response = org.web(None).get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url

    def test_page_no_role_forbidden(self, org):
        obj = self.make(org, "east")
        for url in filter(
            None, [self.list_route and reverse(self.list_route), self.detail_route and self._detail(obj)]
        ):
            assert org.web("norole").get(url).status_code == 403, url

    def test_page_own_branch_sees(self, org):
        obj = self.make(org, "east")
        web = org.web(OWN)
        if self.list_route:
            response = web.get(reverse(self.list_route))
            assert response.status_code == 200
            assert obj in response.context["page"].object_list
        if self.detail_route:
            assert web.get(self._detail(obj)).status_code == 200

    def test_page_other_branch_not_found(self, org):
        obj = self.make(org, "east")
        web = org.web(OTHER)
        if self.list_route:
            response = web.get(reverse(self.list_route))
            assert response.status_code == 200
            assert obj not in response.context["page"].object_list
        if self.detail_route:
            assert web.get(self._detail(obj)).status_code == 404

    @pytest.mark.parametrize("reader", GROUP_READERS)
    def test_page_group_roles_see(self, org, reader):
        obj = self.make(org, "east")
        if self.detail_route:
            assert org.web(reader).get(self._detail(obj)).status_code == 200

    def test_page_grant_active_then_expired(self, org):
        if not self.grants_apply or not self.detail_route:
            return
        obj = self.make(org, "east")
        grant = grant_access(org, org[OTHER], self.client_of(obj), active=True)
        assert org.web(OTHER).get(self._detail(obj)).status_code == 200
        grant.ends_at = grant.starts_at  # now expired, before any revoking job has run
        grant.save(update_fields=["ends_at"])
        assert org.web(OTHER).get(self._detail(obj)).status_code == 404

    # -- API ---------------------------------------------------------------------------------
    def test_api_anonymous_unauthorised(self, org):
        if self.api_list_route:
            response = org.api(None).get(reverse(self.api_list_route))
            assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"

    def test_api_no_role_forbidden(self, org):
        obj = self.make(org, "east")
        if self.api_list_route:
            assert org.api("norole").get(reverse(self.api_list_route)).status_code == 403
        if self.api_detail_route:
            assert org.api("norole").get(self._api_detail(obj)).status_code == 403

    def test_api_scope(self, org):
        obj = self.make(org, "east")
        if self.api_list_route:
            assert obj.pk in self._api_ids(org.api(OWN).get(reverse(self.api_list_route)))
            assert obj.pk not in self._api_ids(org.api(OTHER).get(reverse(self.api_list_route)))
            assert obj.pk in self._api_ids(org.api("leader").get(reverse(self.api_list_route)))
        if self.api_detail_route:
            assert org.api(OWN).get(self._api_detail(obj)).status_code == 200
            assert org.api(OTHER).get(self._api_detail(obj)).status_code == 404
            assert org.api("auditor").get(self._api_detail(obj)).status_code == 200

    def test_api_refused_writes_change_nothing(self, org):
        if not self.api_detail_route:
            return
        obj = self.make(org, "east")
        url = self._api_detail(obj)
        before = self.model.objects.filter(pk=obj.pk).values().get()
        # A method the resource never takes answers 405 to everyone, before any role or scope check.
        takes = resolve(url).func.cls.http_method_names
        patch_ok, delete_ok = "patch" in takes, "delete" in takes
        assert org.api(OTHER).patch(url, {}, format="json").status_code == (404 if patch_ok else 405)
        # A manager of another branch holds the delete role, but not for this branch: 404.
        assert org.api("south_manager").delete(url).status_code == (404 if delete_ok else 405)
        # Group leaders and auditors read everything but change nothing (R3).
        assert org.api("leader").patch(url, {}, format="json").status_code == (403 if patch_ok else 405)
        assert org.api("auditor").delete(url).status_code == (403 if delete_ok else 405)
        assert self.model.objects.filter(pk=obj.pk).values().get() == before
