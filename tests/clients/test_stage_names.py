"""R41: 跟踪客户 and 投标客户, seed 001's names of what a branch collects, are the second names of
意向客户 and 准客户 (not new stages): the labels carry both, the codes stay, the import reads
either, and the stage-change trail keeps reading as before."""

from __future__ import annotations

import pytest

from clients import services
from clients.imports.services import STAGES
from clients.models import Stage, StageChange

from .archive_helpers import make_client

pytestmark = pytest.mark.django_db


def test_the_branches_stage_names_are_the_stages_second_names():
    assert STAGES["跟踪客户"] == STAGES["意向客户"] == STAGES["跟踪"] == Stage.INTENDED
    assert STAGES["投标客户"] == STAGES["准客户"] == STAGES["投标"] == Stage.PROSPECTIVE
    assert STAGES[str(Stage.INTENDED.label)] == Stage.INTENDED
    assert STAGES[str(Stage.PROSPECTIVE.label)] == Stage.PROSPECTIVE
    assert "跟踪客户" in str(Stage.INTENDED.label) and "投标客户" in str(Stage.PROSPECTIVE.label)
    assert Stage.values == ["potential", "intended", "prospective", "signed", "developed", "partner"]


def test_a_stage_change_reads_with_both_names(org):
    client = make_client(org, "east", stage="intended")
    services.client_set_stage(client=client, stage="prospective", by=org["east_staff"], note="参加投标")
    change = StageChange.objects.filter(client=client).latest("changed_at")
    assert (change.get_from_stage_display(), change.get_to_stage_display()) == (
        "意向客户(跟踪客户)",
        "准客户(投标客户)",
    )
