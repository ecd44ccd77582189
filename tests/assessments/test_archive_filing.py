"""R54 (seed 001): «客户满意度调查、客户分析报告、客户投诉的信息应在客户档案中做相应归档»;
«我方对客户的评价,主要由客户分析报告构成». Submitting a branch's analysis report files each
single-client analysis in the client's archive: it becomes 我方对客户的评价 (the previous one
kept in the client's history), the client page's 分析与评价 tab lists the analyses, the reports
that name the client and its survey results with dates, and the archive export carries it."""

from __future__ import annotations

import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from assessments.review import services
from crm.figures import HalfYear

from .helpers import at, new_client

pytestmark = pytest.mark.django_db

H1 = HalfYear(2026, 1)
TEXTS = {"loyalty": "稳定", "profit": "增长", "future": "向好", "capability": "良好", "product": "装配式"}


def tab(org, persona, client):
    return org.web(persona).get(reverse("clients:client-tab", kwargs={"pk": client.pk, "tab": "analyses"}))


def submit(org, report, **texts):
    with time_machine.travel(at("2026-07-10T10:00"), tick=False):
        return services.analysis_save(
            report=report, by=org["east_manager"], data={**TEXTS, **texts}, submit=True
        )


def test_a_submitted_analysis_becomes_the_clients_evaluation_and_history_keeps_the_old(org):
    client = new_client(org, "east", our_evaluation="资信一般")
    untouched = new_client(org, "east", our_evaluation="合作稳定")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    services.client_analysis_save(
        report=report, by=org["east_staff"], client=client, text="付款及时,二期项目已立项,可培养为A类"
    )
    client.refresh_from_db()
    assert client.our_evaluation == "资信一般"  # a draft files nothing
    version = client.version

    submit(org, report)
    client.refresh_from_db()
    untouched.refresh_from_db()
    assert client.our_evaluation == "付款及时,二期项目已立项,可培养为A类"
    assert client.version == version + 1
    assert untouched.our_evaluation == "合作稳定" and untouched.version == 1
    latest, previous = client.history.order_by("-history_id")[:2]
    assert latest.history_change_reason == "由 2026H1 客户分析报告归档"
    assert latest.history_user == org["east_manager"]
    assert previous.our_evaluation == "资信一般"


def test_the_tab_lists_analyses_reports_and_surveys_with_the_evaluations_source(org):
    client = new_client(org, "east", our_evaluation="资信一般")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    services.client_analysis_save(report=report, by=org["east_staff"], client=client, text="付款及时")
    r = tab(org, "east_staff", client)
    assert r.status_code == 200
    html = r.content.decode()
    assert "付款及时" in html and "单个客户分析" in html
    assert "尚无已提交的客户分析报告分析本客户" in html  # a draft is not the evaluation's source

    submit(org, report)
    html = tab(org, "east_staff", client).content.decode()
    assert "取自 华东分公司 2026H1 客户分析报告中的单个客户分析" in html
    assert reverse("assessments:analysis-detail", kwargs={"pk": report.pk}) in html
    assert "2026-07-10" in html and "含本客户的单个客户分析" in html

    # Edited in the archive afterwards: the edit is kept, and the tab says so.
    client.refresh_from_db()
    client.our_evaluation = "付款及时;近期人事变动,需关注"
    client.save()
    html = tab(org, "east_staff", client).content.decode()
    assert "已在档案中修改" in html and "付款及时;近期人事变动,需关注" in html


def test_a_report_whose_text_names_the_client_is_listed(org):
    client = new_client(org, "east", name="苏州工业园区城投置业有限公司")
    other = new_client(org, "east", name="无锡惠山建设发展有限公司")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    submit(org, report, common_traits="苏州工业园区城投置业有限公司与其子公司付款习惯一致")
    assert "报告正文提及本客户" in tab(org, "east_staff", client).content.decode()
    assert "暂无归档的分析与评价" in tab(org, "east_staff", other).content.decode()


def test_the_tab_reads_through_restrict(org):
    client = new_client(org, "east")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    services.client_analysis_save(report=report, by=org["east_staff"], client=client, text="付款及时")
    assert tab(org, "south_staff", client).status_code == 404
    assert tab(org, "marketing", client).status_code == 200
    assert (
        org.web(None)
        .get(reverse("clients:client-tab", kwargs={"pk": client.pk, "tab": "analyses"}))
        .status_code
        == 302
    )
    # The page's badge counts the client's analyses.
    page = org.web("east_staff").get(reverse("clients:client-detail", kwargs={"pk": client.pk}))
    assert page.context["client"].tab_count_analyses == 1


def test_the_archive_export_carries_the_filed_evaluation(org):
    client = new_client(org, "east", name="常州武进城建集团有限公司", our_evaluation="资信一般")
    report = services.analysis_open(branch=org.branches["east"], half=H1)
    services.client_analysis_save(
        report=report, by=org["east_staff"], client=client, text="付款及时,合作意愿强"
    )
    submit(org, report)
    response = org.web("east_staff").get(reverse("clients:client-export"), {"q": "武进城建"})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    column = list(rows[0]).index("我方对客户的评价")
    assert [(r[1], r[column]) for r in rows[1:]] == [("常州武进城建集团有限公司", "付款及时,合作意愿强")]


def test_the_tab_lists_the_clients_returned_surveys_with_their_results(org):
    from surveys import services as surveys
    from surveys.models import SurveyTemplate
    from tests.surveys.conftest import ensure_shipped_templates, scores_for

    ensure_shipped_templates()
    client = new_client(org, "east")
    template = SurveyTemplate.objects.get(code="standard")
    survey = surveys.survey_create(by=org["east_staff"], client=client, template=template)
    html = tab(org, "east_staff", client).content.decode()
    assert reverse("surveys:survey-detail", kwargs={"pk": survey.pk}) not in html  # not returned yet
    survey = surveys.survey_enter_paper(
        survey=survey,
        by=org["east_staff"],
        scores=scores_for(template, low=(0,)),
        respondent="王工",
        answered_on=at("2026-03-18T10:00").date(),
    )
    html = tab(org, "east_staff", client).content.decode()
    assert reverse("surveys:survey-detail", kwargs={"pk": survey.pk}) in html
    rate = round(float(survey.satisfaction_rate) * 100)
    assert f"满意率 {rate}%,不满意项 {survey.unsatisfied_count} 项" in html
    assert survey.unsatisfied_count >= 1 and "2026-03-18" in html
