"""The archive journey: east_staff creates a client with two contacts, records a visit and an
urgent need and sees its deadline, finds the client by a Chinese substring and exports the
list; east_manager changes the grade with a reason and sees it in the history."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from clients.models import Client, Contact, GradeChange, Need, Visit
from tests.clients.factories import make_credit_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAME = "昆山花桥国际商务城开发建设有限公司"


def test_archive_journey(org, journey):
    page = journey.login("east_staff")
    page = journey.go("/clients/")
    journey.shot("list_empty")
    page.click("[data-testid=client-create]")
    page.fill("#id_name", NAME)
    page.fill("#id_credit_code", "91310000MA1FL0XX1X")  # wrong check digit
    page.fill("#id_address", "江苏省昆山市花桥镇商务大道1号")
    page.select_option("#id_org_type", "state_owned")
    page.fill("#id_phone", "0512-57601234")
    page.click("[data-testid=save]")
    assert page.locator("[data-testid=error-credit_code]").is_visible()
    assert page.input_value("#id_address") == "江苏省昆山市花桥镇商务大道1号"  # nothing typed lost
    journey.shot("form_error")
    page.fill("#id_credit_code", make_credit_code(4242))
    page.check("#id_integrity_good")
    page.click("[data-testid=save]")
    page.wait_for_url("**/clients/*/")
    client = Client.objects.get(name=NAME)
    journey.shot("client_created")

    # Two contacts through the inline (htmx) form: loaded on demand, and open again after a save.
    # Each tab is loaded when opened, at its own address (htmx, hx-push-url).
    page.click("[data-testid=tab-contacts]")
    page.wait_for_url(f"**/clients/{client.pk}/tabs/contacts/")
    page.click("[data-testid=open-form-contacts]")
    for name, position, phone in (
        ("周建华", "总经理", "13962601234"),
        ("沈丽", "工程部经理", "0512-57605678"),
    ):
        form = page.locator("[data-testid=form-contacts]")
        form.locator("input[name=name]").fill(name)
        form.locator("input[name=position]").fill(position)
        form.locator("input[name=phone]").fill(phone)
        form.locator("[data-testid=save-contacts]").click()
        page.locator("[data-testid=contacts-table]", has_text=name).wait_for()
    assert Contact.objects.filter(client=client).count() == 2
    assert page.locator("#count-contacts").inner_text() == "2"  # the tab's badge follows (htmx oob)
    journey.shot("contacts")

    # A visit.
    page.click("[data-testid=tab-visits]")
    page.wait_for_url(f"**/clients/{client.pk}/tabs/visits/")
    page.click("[data-testid=open-form-visits]")
    form = page.locator("[data-testid=form-visits]")
    form.locator("input[name=our_people]").fill("陈志强")
    form.locator("input[name=client_people]").fill("周建华")
    form.locator("textarea[name=notes]").fill("介绍公司设计与施工一体化能力,了解二期商务楼计划")
    form.locator("[data-testid=save-visits]").click()
    page.locator("[data-testid=visits-table]", has_text="陈志强").wait_for()
    assert Visit.objects.filter(client=client).count() == 1
    journey.shot("visit")

    # An urgent need; its deadline is shown.
    page.click("[data-testid=tab-needs]")
    page.wait_for_url(f"**/clients/{client.pk}/tabs/needs/")
    page.click("[data-testid=open-form-needs]")
    form = page.locator("[data-testid=form-needs]")
    form.locator("textarea[name=description]").fill("二期商务楼需在两周内提供概念方案")
    form.locator("select[name=category]").select_option("product")
    form.locator("select[name=urgency]").select_option("urgent")
    form.locator("[data-testid=save-needs]").click()
    page.locator("[data-testid=needs-table]", has_text="概念方案").wait_for()
    need = Need.objects.get(client=client)
    from django.utils import timezone

    due = timezone.localtime(need.response_due_at).strftime("%Y-%m-%d %H:%M")
    assert due in page.locator("[data-testid=needs-table]").inner_text()
    journey.shot("need_deadline")

    # Find it by a Chinese substring, then export the list.
    page = journey.go("/clients/")
    page.fill("#id_q", "花桥国际")
    page.click("[data-testid=search]")
    assert NAME in page.locator("[data-testid=client-table]").inner_text()
    journey.shot("search")
    with page.expect_download() as info:
        page.click("[data-testid=export]")
    rows = list(
        load_workbook(BytesIO(open(info.value.path(), "rb").read())).active.iter_rows(values_only=True)
    )
    assert len(rows) == 2 and rows[1][1] == NAME and "周建华" in rows[1][6]

    # The manager changes the grade with a reason and sees it in the history.
    page = journey.login("east_manager")
    page = journey.go(f"/clients/{client.pk}/")
    page.click("[data-testid=set-grade]")
    page.select_option("#id_grade", "A")
    page.click("[data-testid=save]")
    assert page.locator("[data-testid=error-reason]").is_visible()
    journey.shot("grade_reason_required")
    page.fill("#id_reason", "花桥商务城重点开发平台,二期即将启动")
    page.click("[data-testid=save]")
    page.wait_for_url(f"**/clients/{client.pk}/tabs/history/")
    history = page.locator("[data-testid=grade-history]")
    history.wait_for()
    assert "花桥商务城重点开发平台" in history.inner_text()
    assert GradeChange.objects.get(client=client).changed_by == org["east_manager"]
    journey.shot("grade_history")
