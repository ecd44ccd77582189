"""The first journey: east_staff signs in and sees the Chinese home page."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_east_staff_logs_in_and_sees_chinese_home(org, journey):
    page = journey.go("/")
    assert "/accounts/login/" in page.url
    journey.shot("login")
    page = journey.login("east_staff")
    assert page.locator("h1").first.inner_text() == "工作台"
    assert "华东区域分公司" in page.locator("header").inner_text()
    assert "李娜" in page.locator("header").inner_text()
    journey.shot("home")
    # A wrong password shows a Chinese message, not a crash.
    journey.login("east_staff", "wrong-password")
    assert "请输入" in page.content() or "正确" in page.content()
    journey.shot("wrong_password")
