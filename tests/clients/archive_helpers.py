"""Builders for the archive tests (not fixtures: plain functions taking the ``org`` personas)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clients import services
from clients.models import Client, Need, Project, Visit, VisitPlan
from crm.attachments.files import attachment_storage
from tests.clients.factories import ClientFactory, ContactFactory, ProjectFactory


def make_client(org, branch_code="east", **kwargs) -> Client:
    kwargs.setdefault("owner", org[f"{branch_code}_staff"])
    return ClientFactory(branch=org.branches[branch_code], **kwargs)


def make_need(org, branch_code="east", urgency="general", **kwargs) -> Need:
    client = kwargs.pop("client", None) or make_client(org, branch_code)
    kwargs.setdefault("description", "希望提供BIM深化设计服务")
    need = Need(client=client, category="service", urgency=urgency, **kwargs)
    return services.need_create(need=need, by=client.owner)


def make_visit(org, branch_code="east") -> Visit:
    client = make_client(org, branch_code)
    return services.visit_record(visit=Visit(client=client, channel="visit", notes="走访"), by=client.owner)


def make_plan(org, branch_code="east", *, overdue=True) -> VisitPlan:
    client = make_client(org, branch_code, grade="B")
    due = timezone.localdate() + dt.timedelta(days=-3 if overdue else 10)
    plan = VisitPlan(client=client, frequency="monthly", next_due_on=due)
    return services.visit_plan_save(plan=plan, by=client.owner)


def make_project(org, branch_code="east") -> Project:
    return ProjectFactory(client=make_client(org, branch_code))


def make_contact(org, branch_code="east"):
    return ContactFactory(client=make_client(org, branch_code))


def stored_files() -> list[str]:
    """Every file the attachments' storage holds (walked through the storage API)."""
    storage = attachment_storage()
    found, folders = [], ["attachments"]
    while folders:
        folder = folders.pop()
        if not storage.exists(folder):
            continue
        dirs, files = storage.listdir(folder)
        folders += [f"{folder}/{d}" for d in dirs]
        found += [f"{folder}/{f}" for f in files]
    return sorted(found)
