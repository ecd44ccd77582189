"""The survey journey (issue 6): east_staff sends a survey; the client answers the public page
with no login, in Chinese, with two unsatisfied items; east_staff sees the follow-up; the
results page shows the priority matrix and the targets."""

import pytest

from surveys.models import FollowUp, Question, Survey
from tests.surveys.conftest import ensure_shipped_templates, make_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_send_answer_follow_up_and_results(org, journey):
    ensure_shipped_templates()
    client = make_client(org, "east")
    page = journey.login("east_staff")

    # 1. east_staff creates and sends a survey for their client.
    page = journey.go(f"/surveys/new/?client={client.pk}")
    page.select_option("#id_template", label="客户满意度调查表(标准)")
    page.select_option("#id_project", index=1)
    page.fill("#id_recipient_name", "王建国")
    journey.shot("create")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.click("[data-testid=send]")
    page.wait_for_load_state()
    link = page.input_value("#answer-link")
    assert "/surveys/a/" in link
    journey.shot("link_to_copy")
    survey = Survey.objects.get(client=client)
    assert survey.status == Survey.Status.SENT

    # 2. The client opens the link with no login and answers in Chinese.
    journey.context.clear_cookies()
    path = link[link.index("/surveys/a/") :]
    page = journey.go(path)
    body = page.inner_text("body")
    assert "中建联合工程集团" in body and "工程质量" in body
    assert client.name not in body and "李娜" not in body  # nothing of the archive
    questions = list(
        Question.objects.filter(dimension__template=survey.template).order_by(
            "dimension__order", "order", "pk"
        )
    )
    five = [q for q in questions if q.scale == "five"]
    low = {five[1].pk, five[3].pk}  # two unsatisfied items
    for q in questions:
        if q.scale == "ten":
            idx = 9
        else:
            idx = 0 if q.pk in low else 4
        page.click(f'label[for="id_q{q.pk}_{idx}"]')
    page.fill("#id_respondent", "王建国(基建处处长)")
    page.fill("#id_comment", "现场资料移交不够及时,竣工后维修响应偏慢。")
    journey.shot("public_answer")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "感谢您的宝贵意见" in page.inner_text("[data-testid=thanks]")
    journey.shot("thanks")
    page = journey.go(path)
    assert "已提交" in page.inner_text("[data-testid=closed]")
    journey.shot("used_link")
    survey.refresh_from_db()
    assert survey.unsatisfied_count == 2
    assert FollowUp.objects.filter(survey=survey, owner=org["east_staff"]).exists()

    # 3. east_staff sees the follow-up (bell, list, survey page with 转为投诉).
    page = journey.login("east_staff")
    assert page.locator("[data-testid=unread-count]").count() == 1
    page = journey.go("/surveys/follow-ups/")
    assert client.name in page.inner_text("[data-testid=follow-up-row]")
    journey.shot("follow_ups")
    page.click(f"text={client.name}")
    page.wait_for_load_state()
    card = page.inner_text("[data-testid=follow-up]")
    assert "不满意项" in card and "李娜" in card
    href = page.get_attribute("[data-testid=to-complaint]", "href")
    assert href.startswith(f"/complaints/new/?client={client.pk}")
    journey.shot("survey_with_follow_up")

    # 4. The results page: targets against actuals and the priority matrix.
    page = journey.go(f"/surveys/results/?template={survey.template.pk}")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('matrix-chart') && Chart.getChart('targets-chart')"
    )
    table = page.inner_text("[data-testid=targets-table]")
    assert "基本值" in table and "目标值" in table and "49%" in table and "55%" in table
    assert "优先改进区" in page.content() or "优势保持区" in page.content()
    assert page.locator("[data-testid=priority-matrix]").is_visible()
    journey.shot("results")
    page = journey.go(f"/surveys/matrix/?template={survey.template.pk}&branch={org.branches['east'].pk}")
    page.wait_for_function("() => window.Chart && Chart.getChart('matrix-chart')")
    journey.shot("matrix_east")
