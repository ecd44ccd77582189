"""The administrator's pages and API of the group chat robots (R116) and who receives what (R117)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from crm.robots import platforms, robot_targets
from crm.robots.models import ChatRobot
from crm.robots.receiver import ERROR, Receiver
from crm.robots.services import robot_save, robot_send_test

pytestmark = pytest.mark.django_db

ROUTES_COVERED = [
    "robots:robot-list",
    "robots:robot-create",
    "robots:robot-detail",
    "robots:robot-edit",
    "robots:robot-active",
    "robots:robot-test",
    "chat-robot-list",
    "chat-robot-detail",
    "chat-robot-test",
]
NOT_ADMINS = ("marketing", "leader", "auditor", "east_manager", "east_staff", "norole")
SECRET = "SECabcdef0123456789abcdef0123456789abcdef0123456789abcdef012345"


def robot(
    org,
    *,
    unit="branch",
    branch="east",
    department=None,
    kinds=("overdue",),
    active=True,
    kind="wecom",
    key="k",
):
    urls = {
        "wecom": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}-0000-1111-2222",
        "dingtalk": f"https://oapi.dingtalk.com/robot/send?access_token={key}0123456789abcdef",
        "feishu": f"https://open.feishu.cn/open-apis/bot/v2/hook/{key}-aaaa-bbbb-cccc",
    }
    r = ChatRobot(
        name=f"{unit}-{branch}-{key}",
        kind=kind,
        unit=unit,
        branch=org.branches[branch] if unit == "branch" else None,
        department=department,
        webhook_url=urls[kind],
        notice_kinds=list(kinds),
        is_active=active,
    )
    return robot_save(robot=r, by=org["admin"], secret=SECRET if kind != "wecom" else None)


# -- R117: who receives a notice ------------------------------------------------------------------


def test_targets_follow_units_kinds_and_state(org):
    east = robot(org, key="east")
    south = robot(org, branch="south", key="south")
    group = robot(org, unit="group", kinds=("ratings", "overdue"), key="group")
    reminders_only = robot(org, kinds=("reminders",), key="rem")
    robot(org, active=False, key="off")
    dept = org.departments[("east", "biz")]
    department = robot(org, unit="department", department=dept, key="dept")
    other_dept = robot(org, unit="department", department=org.departments[("south", "biz")], key="dept2")
    staff = org["east_staff"]
    assert staff.department_id == dept.pk
    got = robot_targets(verb="complaint_overdue", recipients=[staff, org["east_manager"]])
    assert got == sorted([str(east.pk), str(group.pk), str(department.pk)], key=int)
    # ids work as well as users; reminders go to the reminder robot only (and not the group's).
    assert robot_targets(verb="monthly_reminder", recipients=[staff.pk]) == [str(reminders_only.pk)]
    # a verb of no kind goes nowhere; nor does a notice with no recipient
    assert robot_targets(verb="access_request", recipients=[staff]) == []
    assert robot_targets(verb="complaint_overdue", recipients=[]) == []
    # the department robot's unit is its department, the south branch robot south's people's
    assert str(south.pk) in robot_targets(verb="complaint_overdue", recipients=[org["south_staff"]])
    assert str(other_dept.pk) not in got
    # one message per robot, however many of its unit receive the notice
    assert len(got) == len(set(got))


def test_every_notify_verb_is_classified_or_deliberately_left_out():
    """Each kind has verbs; a known personal verb maps to nothing."""
    from crm.robots.kinds import VERB_KINDS, NoticeKind, kind_of

    assert set(VERB_KINDS.values()) == set(NoticeKind.values)
    assert kind_of("complaint_overdue") == "overdue" and kind_of("ranking") == "ratings"
    assert kind_of("give_up") is None and kind_of("something_new") is None


# -- R116: the model's rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,url,problem",
    [
        ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "scheme"),
        ("wecom", "https://evil.example.com/cgi-bin/webhook/send?key=abc", "host"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "key"),
        ("dingtalk", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "host"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/other?access_token=abc", "path"),
        ("feishu", "ftp://open.feishu.cn/open-apis/bot/v2/hook/abc", "scheme"),
        ("feishu", "https://user:pw@open.feishu.cn/open-apis/bot/v2/hook/abc", "malformed"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", None),
        ("dingtalk", "http://127.0.0.1:8765/robot/send?access_token=abc", None),
        ("feishu", "https://open.larksuite.com/open-apis/bot/v2/hook/abc-1", None),
    ],
)
def test_webhook_addresses(kind, url, problem):
    assert platforms.webhook_problem(kind, url) == problem


def test_secret_is_masked_and_kept_out_of_the_history(org):
    r = robot(org, kind="dingtalk", key="d")
    assert r.secret == SECRET
    assert SECRET not in r.masked_secret and r.masked_secret.startswith("SECa")
    assert "0123456789abcdef" not in r.masked_url
    assert not hasattr(r.history.first(), "secret")


# -- pages ------------------------------------------------------------------------------------------


def test_pages_are_for_administrators_only(org):
    r = robot(org)
    pages = [
        reverse("robots:robot-list"),
        reverse("robots:robot-create"),
        reverse("robots:robot-detail", args=[r.pk]),
        reverse("robots:robot-edit", args=[r.pk]),
    ]
    for url in pages:
        response = org.web(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        for who in NOT_ADMINS:
            assert org.web(who).get(url).status_code == 403, (who, url)
        assert org.web("admin").get(url).status_code == 200, url
    for name in ("robots:robot-active", "robots:robot-test"):
        url = reverse(name, args=[r.pk])
        for who in NOT_ADMINS:
            assert org.web(who).post(url, {"active": "0"}).status_code == 403, (who, url)
    r.refresh_from_db()
    assert r.is_active and r.last_test_at is None
    assert org.web("admin").get(reverse("robots:robot-detail", args=[999999])).status_code == 404


def test_navigation_shows_robots_to_administrators_only(org):
    home = reverse("home")
    assert reverse("robots:robot-list") in org.web("admin").get(home).content.decode()
    assert reverse("robots:robot-list") not in org.web("marketing").get(home).content.decode()


def test_register_edit_deactivate_through_the_pages(org):
    web = org.web("admin")
    data = {
        "name": "华东钉钉群",
        "kind": "dingtalk",
        "unit": "branch",
        "branch": org.branches["east"].pk,
        "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef",
        "secret": SECRET,
        "notice_kinds": ["overdue", "reminders"],
        "is_active": "on",
    }
    response = web.post(reverse("robots:robot-create"), data)
    assert response.status_code == 302
    r = ChatRobot.objects.get(name="华东钉钉群")
    assert r.secret == SECRET and r.notice_kinds == ["reminders", "overdue"] and r.created_by == org["admin"]
    page = web.get(reverse("robots:robot-edit", args=[r.pk])).content.decode()
    assert SECRET not in page  # never shown back in full
    detail = web.get(reverse("robots:robot-detail", args=[r.pk])).content.decode()
    assert SECRET not in detail and "0123456789abcdef" not in detail
    # an edit with the secret left blank keeps it
    response = web.post(
        reverse("robots:robot-edit", args=[r.pk]), {**data, "secret": "", "name": "华东经营群"}
    )
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.name == "华东经营群" and r.secret == SECRET
    # a bad address: the form says why, nothing is saved, what was typed stays
    response = web.post(
        reverse("robots:robot-edit", args=[r.pk]),
        {**data, "webhook_url": "http://example.com/robot/send?access_token=x"},
    )
    assert response.status_code == 400
    assert "https://" in response.context["form"].errors["webhook_url"][0]
    assert 'value="http://example.com/robot/send?access_token=x"' in response.content.decode()
    r.refresh_from_db()
    assert r.webhook_url.startswith("https://oapi.dingtalk.com")
    # a secret for WeCom is refused
    response = web.post(
        reverse("robots:robot-create"),
        {**data, "kind": "wecom", "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
    )
    assert response.status_code == 400 and "secret" in response.context["form"].errors
    # deactivate: it receives nothing any more; the history has every step
    assert web.post(reverse("robots:robot-active", args=[r.pk]), {"active": "0"}).status_code == 302
    r.refresh_from_db()
    assert not r.is_active
    assert robot_targets(verb="complaint_overdue", recipients=[org["east_staff"]]) == []
    assert r.history.count() == 3
    assert [h.history_user for h in r.history.all()] == [org["admin"]] * 3


def test_bad_input_never_500(org):
    web = org.web("admin")
    for data in (
        {},
        {"kind": "nope", "unit": "moon", "branch": "abc", "notice_kinds": ["x"]},
        {"kind": "wecom", "unit": "department", "name": "x", "webhook_url": "\x00"},
        {"kind": "wecom", "unit": "branch", "name": "x" * 500, "webhook_url": "https://[::1"},
    ):
        response = web.post(reverse("robots:robot-create"), data)
        assert response.status_code == 400, data
    assert not ChatRobot.objects.exists()
    assert web.get(reverse("robots:robot-list"), {"unit": "x", "page": "abc"}).status_code == 200


def test_send_a_test_message_from_the_page(org, settings):
    settings.CRM_ROBOT_TIMEOUT = 1
    cache.clear()
    with Receiver() as receiver:
        r = ChatRobot(
            name="测试群",
            kind="feishu",
            unit="group",
            webhook_url=receiver.url("feishu", "hook1"),
            notice_kinds=["circulars"],
        )
        robot_save(robot=r, by=org["admin"], secret=SECRET)
        receiver.state.secrets["hook1"] = SECRET
        web = org.web("admin")
        response = web.post(reverse("robots:robot-test", args=[r.pk]), follow=True)
        assert "测试消息已发送成功" in response.content.decode()
        assert receiver.state.received[-1].verdict == "ok"
        r.refresh_from_db()
        assert r.last_test_ok is True
        receiver.state.behaviour["hook1"] = ERROR
        response = web.post(reverse("robots:robot-test", args=[r.pk]), follow=True)
        r.refresh_from_db()
        assert r.last_test_ok is False and "19002" in r.last_test_error
        assert "测试消息发送失败" in response.content.decode()
    cache.clear()


def test_export_lists_what_is_shown_without_keys(org):
    robot(org, kind="dingtalk", key="exp")
    response = org.web("admin").get(reverse("robots:robot-list"), {"export": "xlsx"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]


# -- the API --------------------------------------------------------------------------------------


def test_api_for_administrators_only(org):
    r = robot(org)
    for who in NOT_ADMINS:
        api = org.api(who)
        assert api.get(reverse("chat-robot-list")).status_code == 403, who
        assert api.get(reverse("chat-robot-detail", args=[r.pk])).status_code == 403
        assert (
            api.patch(
                reverse("chat-robot-detail", args=[r.pk]), {"is_active": False}, format="json"
            ).status_code
            == 403
        )
        assert api.post(reverse("chat-robot-test", args=[r.pk])).status_code == 403
    assert org.api(None).get(reverse("chat-robot-list")).status_code in (401, 403)
    r.refresh_from_db()
    assert r.is_active


def test_api_register_read_masked_edit(org):
    api = org.api("admin")
    body = {
        "name": "华南飞书群",
        "kind": "feishu",
        "unit": "branch",
        "branch": org.branches["south"].pk,
        "webhook_url": "https://open.feishu.cn/open-apis/bot/v2/hook/abcdef-123456-7890",
        "secret": SECRET,
        "notice_kinds": ["ratings", "circulars"],
    }
    response = api.post(reverse("chat-robot-list"), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert "secret" not in data and "webhook_url" not in data
    assert SECRET not in response.content.decode() and "abcdef-123456-7890" not in response.content.decode()
    assert data["secret_masked"].startswith("SECa") and data["scope_label"]
    listed = api.get(reverse("chat-robot-list")).json()
    assert listed["count"] == 1
    url = reverse("chat-robot-detail", args=[data["id"]])
    response = api.patch(url, {"is_active": False, "notice_kinds": ["overdue"]}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    r = ChatRobot.objects.get(pk=data["id"])
    assert r.secret == SECRET and r.notice_kinds == ["overdue"]
    response = api.patch(url, {"webhook_url": "https://example.com/x"}, format="json")
    assert response.status_code == 400 and "webhook_url" in response.json()
    response = api.post(reverse("chat-robot-test", args=[r.pk]))
    assert response.status_code == 400  # deactivated
    assert api.delete(url).status_code == 405
    assert (
        api.post(
            reverse("chat-robot-list"), {"kind": "x", "notice_kinds": "overdue"}, format="json"
        ).status_code
        == 400
    )


# -- the demo -------------------------------------------------------------------------------------


def test_demo_robots_one_per_branch_at_the_local_receiver(org, settings):
    """The demo's robots obey R116 and answer the local receiver; seeding twice adds nothing."""
    from crm.models import Branch
    from crm.robots import seed

    assert "chat robots" in seed.seed(org.org)
    robots = list(ChatRobot.objects.all())
    branches = Branch.objects.exclude(kind=Branch.Kind.HQ)
    assert {r.branch_id for r in robots if r.unit == "branch"} == set(branches.values_list("pk", flat=True))
    assert any(r.unit == "group" for r in robots) and any(r.unit == "department" for r in robots)
    assert {r.kind for r in robots} == {"wecom", "dingtalk", "feishu"}
    for r in robots:
        r.full_clean()
        assert r.webhook_url.startswith("http://127.0.0.1:8765/")
    seed.seed(org.org)
    assert ChatRobot.objects.count() == len(robots)
    # the receiver of the demo command knows their secrets from the database and accepts them
    from crm.robots.receiver import Platforms, Receiver, key_of

    settings.CRM_ROBOT_TIMEOUT = 1
    cache.clear()
    secrets = {key_of(r.webhook_url): r.secret for r in robots}
    with Receiver(state=Platforms(lookup=lambda key: secrets.get(key, ""))) as receiver:
        for r in robots:
            ChatRobot.objects.filter(pk=r.pk).update(
                webhook_url=r.webhook_url.replace(":8765", f":{receiver.port}")
            )
            assert robot_send_test(robot=ChatRobot.objects.get(pk=r.pk), by=org["admin"]).last_test_ok, r.kind
        assert [e.verdict for e in receiver.state.received] == ["ok"] * len(robots)
    cache.clear()
