"""R75: after the group re-grades (R31), every branch gets its new A/B/C list (seed 001:
«将调整后的三个类别的客户清单发至集团公司领导及各分子公司手中»): a notice to each of its managers
and staff, whether or not one of its clients moved, with a link to its archive list filtered to
the branch and its Excel, holding the branch's own clients only and read through the reader's
scope; once per (branch, half year)."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from assessments.obligations import reporting_branches
from assessments.review import services
from clients.imports.spreadsheet import COLUMNS
from crm.figures import HalfYear
from crm.models import Notification, Role, Suspension, User
from crm.services import notification_read, user_set_role

from .helpers import new_client

pytestmark = pytest.mark.django_db

H1 = HalfYear(2026, 1)
KEY = "regrading-list:2026H1:{}"


@pytest.fixture
def regraded(org, django_capture_on_commit_callbacks):
    """East: an A client and a C client re-graded to B; south: a C client; design and install:
    none, and no client re-graded."""
    clients = {
        "east_a": new_client(org, "east", name="上海申通地铁集团有限公司", grade="A"),
        "east_c": new_client(org, "east", name="上海临港城建有限公司", grade="C", integrity_good=True),
        "south_c": new_client(org, "south", name="深圳湾区置业有限公司", grade="C"),
    }
    summary = services.summary_open(H1)
    with pytest.raises(ValidationError):
        services.regrading_lists_send(summary=summary)  # nothing to send before the re-grading
    services.regrading_propose(
        summary=summary,
        by=org["marketing"],
        client=clients["east_c"],
        to_grade="B",
        reason="诚信良好,近期有合作",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.regrading_apply(summary=summary, by=org["marketing"]) == 1
    summary.refresh_from_db()
    return summary, clients


def _notice(org, who) -> Notification:
    return Notification.objects.get(recipient=org[who], key=KEY.format(org[who].branch_id))


def test_every_branch_gets_its_list_also_one_with_no_change(org, regraded):
    branches = list(reporting_branches())
    assert {b.code for b in branches} == {"east", "south", "design", "install"}
    for branch in branches:
        for who in (f"{branch.code}_manager", f"{branch.code}_staff"):
            note = _notice(org, who)
            assert note.verb == "regrading_list" and note.read_at is None
            assert note.url == f"/clients/?branch={branch.pk}&sort=grade", note.url
            assert "2026H1" in note.title and str(branch) in note.title
            assert f"/clients/export/?branch={branch.pk}&sort=grade" in note.body
    assert "A类客户 1 家、B类 1 家、C类 0 家" in _notice(org, "east_manager").body
    assert "调整本单位客户 1 家" in _notice(org, "east_staff").body
    assert "C类 1 家" in _notice(org, "south_manager").body
    assert "调整本单位客户 0 家" in _notice(org, "design_manager").body
    # The leaders get the group's notice; nobody of a branch gets another branch's list.
    assert Notification.objects.filter(key="regrading:2026H1", recipient=org["leader"]).exists()
    assert not Notification.objects.filter(
        key="regrading:2026H1", recipient__branch__kind="regional"
    ).exists()
    assert not Notification.objects.filter(
        key=KEY.format(org.branches["east"].pk), recipient=org["south_staff"]
    )
    assert Notification.objects.filter(verb="regrading_list").count() == 8
    # The e-mail carries both links, whole (sent by the outbox, R110).
    from crm.outbox.services import deliveries_send_due

    deliveries_send_due()
    mails = [m for m in mail.outbox if m.to == [org["install_staff"].email] and "A、B、C" in m.subject]
    assert len(mails) == 1
    assert f"/clients/export/?branch={org.branches['install'].pk}&sort=grade" in mails[0].body
    assert f"/clients/?branch={org.branches['install'].pk}&sort=grade" in mails[0].body


def test_sending_again_tells_nobody_twice_and_reaches_who_joined_since(org, regraded):
    summary, _clients = regraded
    before = Notification.objects.filter(verb="regrading_list").count()
    assert services.regrading_lists_send(summary=summary) == 0
    assert Notification.objects.filter(verb="regrading_list").count() == before
    newcomer = User.objects.create_user("design_staff2", full_name="钱新")
    user_set_role(user=newcomer, role=Role.STAFF, branch=org.branches["design"])
    assert services.regrading_lists_send(summary=summary) == 1
    assert Notification.objects.get(recipient=newcomer).key == KEY.format(org.branches["design"].pk)


def _download(org, who):
    note = _notice(org, who)
    path = re.search(r"(/clients/export/\?\S+)", note.body).group(1)
    response = org.web(who).get(path)
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0][: len(COLUMNS)]) == COLUMNS
    name, grade, branch = (COLUMNS.index(c) for c in ("客户单位名称", "客户分级", "所属分公司"))
    return [(r[name], r[grade], r[branch]) for r in lines[1:]]


def test_the_links_hold_the_branchs_own_clients_only_in_grade_order(org, regraded):
    from tests.clients.grants import make_grant

    _summary, clients = regraded
    make_grant(org, org["east_staff"], clients["south_c"], active=True)  # seen, but not east's
    note = _notice(org, "east_staff")
    page = org.web("east_staff").get(note.url)
    assert page.status_code == 200
    assert [c.name for c in page.context["page"].object_list] == [
        "上海申通地铁集团有限公司",
        "上海临港城建有限公司",
    ]
    assert _download(org, "east_staff") == [
        ("上海申通地铁集团有限公司", "A", "华东区域分公司"),
        ("上海临港城建有限公司", "B", "华东区域分公司"),
    ]
    assert _download(org, "design_manager") == []
    assert _download(org, "south_manager") == [("深圳湾区置业有限公司", "C", "华南区域分公司")]


def test_a_suspended_branch_reads_its_list_through_its_own_scope(org, regraded):
    """R33: the links are read when opened; while east's archive query is suspended, its staff
    member's list holds only the clients he owns."""
    import datetime as dt

    from django.utils import timezone

    _summary, clients = regraded
    mine = clients["east_a"]
    mine.owner = org["east_manager"]
    mine.save()
    Suspension.objects.create(
        branch=org.branches["east"],
        kind="archive",
        reason="考核结果为差",
        ends_at=timezone.now() + dt.timedelta(days=30),
    )
    assert _download(org, "east_manager") == [("上海申通地铁集团有限公司", "A", "华东区域分公司")]
    assert _download(org, "east_staff") == [("上海临港城建有限公司", "B", "华东区域分公司")]


def test_the_summary_page_and_the_api_show_who_has_the_lists(org, regraded):
    notification_read(notification=_notice(org, "south_staff"), user=org["south_staff"])
    page = org.web("marketing").get("/reports/analysis/summary/2026H1/")
    assert page.status_code == 200
    sent = {row["branch"].code: (row["total"], row["read"]) for row in page.context["lists_sent"]}
    assert sent == {"east": (2, 0), "south": (2, 1), "design": (2, 0), "install": (2, 0)}
    assert 'data-testid="lists-sent"' in page.content.decode()
    detail = org.api("leader").get("/api/group-summaries/2026H1/")
    assert detail.status_code == 200
    rows = {r["branch"]: r for r in detail.json()["lists_sent"]}
    south = rows[org.branches["south"].pk]
    assert south["recipients"] == 2 and south["read"] == 1 and south["branch_name"] == "华南分公司"
    assert org.api("east_manager").get("/api/group-summaries/2026H1/").status_code == 403
    assert org.web("east_manager").get("/reports/analysis/summary/2026H1/").status_code == 403
    assert org.api("marketing").get("/api/group-summaries/2026H2/").json()["lists_sent"] == []
