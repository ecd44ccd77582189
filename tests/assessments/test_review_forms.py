"""The half-year review's page forms keep what was typed when refused, and mark the field the
refusal is about (design.md, "Every form: field-level errors, nothing typed is lost"): the
auditor's rating (R32) and spot check on the workbench, and the branch's work summary (R33),
whose refusal names each empty part (issue 22)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments.models import Assessment, SpotCheck, WorkSummary
from assessments.review import services

from .test_review import _check_all, _clients, _open

pytestmark = pytest.mark.django_db

REASON = "月报两期逾期,抽查三处与实际不符"


@pytest.fixture
def south(org):
    _clients(org, "south", 3)
    _open()
    return Assessment.objects.get(branch=org.branches["south"])


def _rate(org, assessment, **data):
    return org.web("auditor").post(reverse("assessments:assessment-rate", kwargs={"pk": assessment.pk}), data)


def _checked(html: str) -> list[str]:
    return re.findall(r'name="rating" value="(\w+)" required checked', html)


def test_a_rating_refused_for_the_unfinished_spot_check_keeps_rating_and_reason(org, south):
    response = _rate(org, south, rating="poor", reason=REASON)
    assert response.status_code == 200
    html = response.content.decode()
    form = html[html.index('data-testid="rate-form"') :]
    assert "请先完成全部信息准确性抽查。" in form  # the refusal, at the form
    assert _checked(html) == ["poor"] and f">{REASON}</textarea>" in html
    south.refresh_from_db()
    assert not south.rating and not south.rated_at


def test_a_rating_without_reason_marks_the_reason(org, south):
    _check_all(south, org["auditor"])
    response = _rate(org, south, rating="qualified", reason="  ")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="error-reason"' in html and "请填写评定理由。" in html
    assert re.search(r'<textarea class="[^"]*is-invalid[^"]*"[^>]*name="reason"', html)
    assert _checked(html) == ["qualified"]
    assert 'data-testid="error-rating"' not in html
    south.refresh_from_db()
    assert not south.rating


def test_a_rating_missing_marks_the_rating_and_keeps_the_reason(org, south):
    _check_all(south, org["auditor"])
    html = _rate(org, south, reason=REASON).content.decode()
    assert 'data-testid="error-rating"' in html and "考核结果应为优良、合格或差。" in html
    assert f">{REASON}</textarea>" in html and _checked(html) == []
    # Corrected, it is rated once and the page redirects.
    assert _rate(org, south, rating="qualified", reason=REASON).status_code == 302
    south.refresh_from_db()
    assert (south.rating, south.reason) == ("qualified", REASON)


def test_a_refused_spot_check_shows_the_refusal_in_its_row(org, south):
    _check_all(south, org["auditor"])
    services.assessment_rate(assessment=south, by=org["auditor"], rating="qualified", reason=REASON)
    check = SpotCheck.objects.filter(assessment=south).first()
    url = reverse("assessments:assessment-check", kwargs={"pk": south.pk, "check_pk": check.pk})
    response = org.web("auditor").post(url, {"accurate": "no", "note": "地址已变更"})
    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index(f'data-check="{check.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="check-error"' in row and "考核结果已评定,抽查结果不能再修改。" in row
    assert "地址已变更" not in row  # what was refused is not shown as if it were recorded
    check.refresh_from_db()
    assert check.accurate is True and check.note != "地址已变更"


@pytest.fixture
def summary(org, south):
    _check_all(south, org["auditor"])
    services.assessment_rate(assessment=south, by=org["auditor"], rating="qualified", reason=REASON)
    return WorkSummary.objects.get(assessment=south)


def test_the_work_summary_marks_each_empty_part_and_keeps_the_others(org, summary):
    url = reverse("assessments:summary-detail", kwargs={"pk": summary.pk})
    typed = {"reporting": "月报改由经营部专人按时汇总", "satisfaction": "逐项回访不满意项"}
    response = org.web("south_manager").post(url, typed)
    assert response.status_code == 200
    html = response.content.decode()
    for part, text in typed.items():
        assert f">{text}</textarea>" in html
        assert f'data-testid="error-{part}"' not in html
    empty = [p for p in WorkSummary.PARTS if p not in typed]
    for part in empty:
        assert f'data-testid="error-{part}"' in html
        assert re.search(rf'<textarea class="[^"]*is-invalid[^"]*" id="id_{part}"', html), part
    assert html.count("请填写这一部分。") == len(empty)  # beside the parts, not a list at the top
    assert "请更正下列标红的字段。" in html
    summary.refresh_from_db()
    assert summary.submitted_at is None
    done = org.web("south_manager").post(url, dict.fromkeys(WorkSummary.PARTS, "已整改") | typed)
    assert done.status_code == 302
    summary.refresh_from_db()
    assert summary.submitted_at is not None and summary.reporting == typed["reporting"]


def test_the_work_summary_page_shows_no_rule_id(org, summary):
    html = org.web("south_manager").get(reverse("assessments:summary-detail", kwargs={"pk": summary.pk}))
    text = html.content.decode()
    due = text[text.index('data-testid="due"') :]
    assert not re.search(r"\bR\d+\b", due[: due.index("</p>")])
