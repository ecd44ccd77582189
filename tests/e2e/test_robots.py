"""The chat robot journey (issue 28, R116-R118): the administrator registers a DingTalk robot for
the east branch, pointing at a local server that plays DingTalk (it checks the signature and the
message's format), sends a test message and sees it succeed; the secret is never shown back."""

import pytest
from django.core.cache import cache

from crm.robots.models import ChatRobot
from crm.robots.receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "SECe2e0123456789abcdef0123456789abcdef0123456789abcdef01234567"


def test_administrator_registers_a_robot_and_sends_a_test_message(org, journey):
    cache.clear()
    with Receiver() as receiver:
        receiver.state.secrets["e2e-token"] = SECRET
        page = journey.login("admin")
        journey.go("/robots/")
        journey.shot("list_empty")
        page.click("[data-testid=robot-create]")
        page.wait_for_url("**/robots/new/")
        page.fill("#id_name", "华东分公司经营群")
        page.select_option("#id_kind", "dingtalk")
        page.select_option("#id_unit", "branch")
        page.select_option("#id_branch", str(org.branches["east"].pk))
        page.fill("#id_webhook_url", receiver.url("dingtalk", "e2e-token"))
        page.fill("#id_secret", SECRET)
        page.check("input[name=notice_kinds][value=overdue]")
        page.check("input[name=notice_kinds][value=reminders]")
        journey.shot("form")
        page.click("[data-testid=save]")
        page.wait_for_url("**/robots/*/")
        robot = ChatRobot.objects.get()
        assert robot.secret == SECRET and robot.notice_kinds == ["reminders", "overdue"]
        assert SECRET not in page.content()
        assert page.inner_text("[data-testid=robot-secret]").startswith("SECe")
        page.click("[data-testid=robot-test]")
        page.wait_for_load_state()
        assert "测试消息已发送成功" in page.content()
        assert "成功" in page.inner_text("[data-testid=robot-last-test]")
        journey.shot("tested")
        got = receiver.state.received[-1]
        assert got.kind == "dingtalk" and got.verdict == "ok"
        assert "测试消息" in got.body["markdown"]["text"]
        journey.go("/robots/")
        assert "华东分公司经营群" in page.inner_text("[data-testid=robots]")
        journey.shot("list")
    cache.clear()
