"""The surveys' figures (R21, R26; design.md "Figures"): defined once here, read by the monthly
report, the dashboards and the assessment through crm.figures. A survey counts for the branch it
is attributed to (``Survey.branch``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.figures import Column, Figure, Window, detail_url, narrow, register, rows_of, section

from .models import Answer, Survey

section("surveys", _("满意度调查"))


def _survey_url(row) -> str:
    return detail_url("surveys:survey-detail")(row["id"])


def _answer_url(row) -> str:
    return detail_url("surveys:survey-detail")(row["survey_id"])


def surveys_answered(user, window: Window) -> list[dict]:
    qs = narrow(Survey.objects.restrict(user, "view"), window, department="department_id", at="answered_at")
    return rows_of(
        qs.filter(status=Survey.Status.ANSWERED).order_by("answered_at", "pk"),
        url=_survey_url,
        department="department_id",
        client="client__name",
        template="template__name",
        rate="satisfaction_rate",
        unsatisfied="unsatisfied_count",
        at="answered_at",
    )


def unsatisfied_items(user, window: Window) -> list[dict]:
    """R21, R32 indicator 3: unsatisfied items of the surveys answered in the window."""
    qs = narrow(
        Answer.objects.restrict(user, "view"),
        window,
        department="survey__department_id",
        at="survey__answered_at",
    )
    return rows_of(
        qs.filter(unsatisfied=True).order_by("survey__answered_at", "pk"),
        url=_answer_url,
        department="survey__department_id",
        survey_id="survey_id",
        client="survey__client__name",
        dimension="dimension__name",
        question="question__text",
        score="score",
        at="survey__answered_at",
    )


register(
    Figure(
        "surveys_answered",
        _("回收调查"),
        "surveys",
        410,
        surveys_answered,
        (
            Column("client", _("客户")),
            Column("template", _("调查模板")),
            Column("rate", _("满意率")),
            Column("unsatisfied", _("不满意项")),
            Column("at", _("回收时间"), "datetime"),
        ),
        model=Survey,
    )
)
register(
    Figure(
        "unsatisfied_items",
        _("不满意项"),
        "surveys",
        420,
        unsatisfied_items,
        (
            Column("client", _("客户")),
            Column("dimension", _("维度")),
            Column("question", _("题目")),
            Column("score", _("评分")),
            Column("at", _("回收时间"), "datetime"),
        ),
        help=_("期间内回收的调查中评为不满意的题目。"),
        model=Answer,
    )
)
