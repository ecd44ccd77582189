"""Fixtures of the complaints tests: a client of each branch and a complaint maker."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from complaints import services
from tests.clients.factories import ClientFactory, ProjectFactory

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def make_client(org, branch_code="east", **kwargs):
    return ClientFactory(branch=org.branches[branch_code], owner=org[f"{branch_code}_staff"], **kwargs)


def make_complaint(org, branch_code="east", *, by=None, client=None, **kwargs):
    client = client or make_client(org, branch_code)
    kwargs.setdefault("category", "engineering_quality")
    kwargs.setdefault("content", "三号楼外墙渗水,业主要求尽快处理。")
    kwargs.setdefault("title", "三号楼外墙渗水")
    return services.complaint_receive(by=by or org[f"{branch_code}_staff"], client=client, **kwargs)


@pytest.fixture
def east_client(org):
    return make_client(org, "east")


@pytest.fixture
def key_project(org, east_client):
    return ProjectFactory(client=east_client, is_key=True, name="虹桥商务区办公楼项目")
