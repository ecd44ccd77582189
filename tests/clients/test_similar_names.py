"""R10: a very similar name warns (trigram similarity on PostgreSQL, difflib over candidates
sharing a two-character run on SQLite; the same judgement, names_similar, on both), and the
warning shows each candidate with its branch: a link for what the user may open, the name only
for clients out of their scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients import services
from clients.models import Client
from tests.clients.factories import make_credit_code

from .archive_helpers import make_client

# Pairs users would call the same company.
SAME = [
    ("广州市地铁集团有限公司", "广州地铁集团有限公司"),  # 市 prefix
    ("广东省建筑工程集团有限公司", "广东建筑工程集团有限公司"),  # 省 prefix
    ("广东省广州市城市建设投资有限公司", "广州城市建设投资有限公司"),  # both prefixes
    ("上海建工四建有限公司", "上海建工四建有限责任公司"),  # 有限公司 vs 有限责任公司
    ("中国建筑集团华南建设有限公司", "中国建筑华南建设有限公司"),  # 集团 dropped
    ("深圳市城市建设开发集团有限公司", "深圳市城市建设开发有限公司"),  # 集团 dropped at the end
    ("杭州滨江房产发展有限公司", "杭州滨江房地产发展有限公司"),  # one character more
    ("北京城建设计发展集团", "北京城建设汁发展集团"),  # one character typed wrong
    (
        "苏州工业园区 城市建设（投资）有限公司",
        "苏州工业园区城市建设投资股份有限公司",
    ),  # spaces, brackets, 股份
]
# Pairs they would not.
DIFFERENT = [
    ("中建三局集团有限公司", "中建八局集团有限公司"),  # different numbers are different companies
    ("上海市第一建筑有限公司", "上海市第二建筑有限公司"),
    ("测试客户0001建设发展有限公司", "测试客户0002建设发展有限公司"),
    ("广州地铁集团有限公司", "深圳地铁集团有限公司"),  # another city
    ("上海建工集团股份有限公司", "上海城建集团有限公司"),
    ("万科企业股份有限公司", "万达集团股份有限公司"),
    ("华润置地有限公司", "华润电力控股有限公司"),
]


@pytest.mark.parametrize("a,b", SAME)
def test_names_people_call_the_same_company_are_similar(a, b):
    assert services.names_similar(a, b) and services.names_similar(b, a)


@pytest.mark.parametrize("a,b", DIFFERENT)
def test_names_of_different_companies_are_not_similar(a, b):
    assert not services.names_similar(a, b) and not services.names_similar(b, a)


@pytest.mark.parametrize("existing,typed", SAME)
def test_the_database_finds_the_similar_client(org, existing, typed):
    """The candidates come from the database (pg_trgm on PostgreSQL, bigrams on SQLite)."""
    hit = make_client(org, name=existing)
    make_client(org, name="无关的园林绿化工程有限公司")
    assert services.similar_name_clients(Client.objects.all(), typed) == [hit]


@pytest.mark.parametrize("existing,typed", DIFFERENT)
def test_the_database_finds_nothing_for_another_company(org, existing, typed):
    make_client(org, name=existing)
    assert services.similar_name_clients(Client.objects.all(), typed) == []


def test_create_warns_about_a_similar_name_then_saves_when_confirmed(org):
    existing = make_client(org, name="广州市地铁集团有限公司", branch_code="south")
    data = {
        "name": "广州地铁集团有限公司",
        "credit_code": make_credit_code(901),
        "branch": org.branches["south"],
        "org_type": "state_owned",
        "stage": "intended",
    }
    with pytest.raises(services.SimilarNameWarning) as warning:
        services.client_create(by=org["south_staff"], data=data)
    [dup] = warning.value.duplicates
    assert dup.client == existing and dup.branch_name == org.branches["south"].name and dup.url
    assert Client.objects.count() == 1
    services.client_create(by=org["south_staff"], data=data, similar_token=warning.value.token)
    assert Client.objects.count() == 2


def test_out_of_scope_candidate_shows_name_and_branch_without_link(org):
    make_client(org, name="广州市地铁集团有限公司", branch_code="south")
    web = org.web("east_staff")
    response = web.post(
        reverse("clients:client-create"),
        {
            "name": "广州地铁集团有限公司",
            "credit_code": make_credit_code(902),
            "org_type": "state_owned",
            "branch": org.branches["east"].pk,
            "stage": "potential",
            "social_value": "high",
        },
    )
    assert response.status_code == 200
    [dup] = response.context["similar"]
    assert dup.url is None
    html = response.content.decode()
    assert "广州市地铁集团有限公司" in html and org.branches["south"].name in html
    assert f"/clients/{dup.client.pk}/" not in html
    assert Client.objects.count() == 1


def test_api_lists_similar_candidates_with_branch(org):
    other = make_client(org, name="广州市地铁集团有限公司", branch_code="south")
    mine = make_client(org, name="广州地铁集团有限责任公司", branch_code="east")
    r = org.api("east_staff").post(
        "/api/clients/",
        {"name": "广州地铁集团有限公司", "branch": org.branches["east"].pk, "stage": "potential"},
        format="json",
    )
    assert r.status_code == 400, r.content
    similar = {d["name"]: d for d in r.json()["similar"]}
    assert (
        similar[mine.name]["id"] == str(mine.pk) and similar[mine.name]["branch"] == org.branches["east"].name
    )
    assert (
        similar[other.name]["id"] in (None, "None")
        and similar[other.name]["branch"] == org.branches["south"].name
    )
