"""/api/monthly-reports/ and /api/rankings/ (R26-R29). Reads through ``restrict``; the workflow
steps are actions answered by the services' refusals: 403 for a missing role, 400 with a
message for a refused step, 404 out of scope."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from crm import figures as fig
from crm.api.base import NoCollectionPost, RestrictedReadOnlyViewSet
from crm.api.schema import answers, refusals
from crm.models import Branch

from ..models import MonthlyReport, Ranking
from ..monthly import services
from ..monthly.views import may_close, may_read_rollup
from . import serializers as s
from .common import retry_round


class MonthlyReportFilter(django_filters.FilterSet):
    period = django_filters.CharFilter(method="filter_period", help_text="YYYY-MM")
    status = django_filters.ChoiceFilter(choices=MonthlyReport.Status.choices)

    class Meta:
        model = MonthlyReport
        fields = ["branch", "period", "status"]

    def filter_period(self, queryset, name, value):
        try:
            return queryset.filter(period=fig.Period.parse(value).label)
        except ValueError as error:
            raise APIValidationError({"period": [str(error)]}) from None


class MonthlyReportViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """The monthly reports of the user's scope. Drafts show live figures, submitted reports
    their frozen snapshot."""

    queryset = MonthlyReport.objects.select_related("branch", "submitted_by").order_by(
        "-period", "branch__sort_order"
    )
    serializer_class = s.MonthlyReportSerializer
    filterset_class = MonthlyReportFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_scopes = {
        "submit": "change",
        "accept": "change",
        "return_": "change",
        "close": "view",
        "close_retry": "view",
        "rollup": "view",
        "current": "view",
    }

    @extend_schema(
        request=s.ReportSubmitSerializer,
        responses=answers(
            s.MonthlyReportSerializer,
            refused="The report is submitted or accepted: its remarks are frozen.",
            forbidden="Only the branch manager (or an administrator) writes the remarks.",
            not_found="No such report in the user's scope.",
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        """PATCH ``{"remarks"}``: the branch manager's remarks on a report not yet submitted."""
        report = self.get_object()
        data = s.ReportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        remarks = data.validated_data.get("remarks", report.remarks)
        return self._answer(services.report_set_remarks(report=report, by=request.user, remarks=remarks))

    def _answer(self, report):
        return self.answer(report, s.MonthlyReportSerializer)

    @extend_schema(
        request=s.ReportSubmitSerializer,
        responses=answers(
            s.MonthlyReportSerializer,
            refused="Already submitted, the period not begun, or the branch is held for what it owes past its due date.",
            forbidden="Only the branch manager (or an administrator) submits the report.",
            not_found="No such report in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = s.ReportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_submit(
            report=self.get_object(), by=request.user, remarks=data.validated_data.get("remarks")
        )
        return self._answer(report)

    @extend_schema(
        request=None,
        responses=answers(
            s.MonthlyReportSerializer,
            refused="The report is not submitted, or already accepted.",
            forbidden="Only group marketing accepts reports.",
            not_found="No such report in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(services.report_accept(report=self.get_object(), by=request.user))

    @extend_schema(
        request=s.ReportReturnSerializer,
        responses=answers(
            s.MonthlyReportSerializer,
            refused="The report is not submitted, or no reason was given.",
            forbidden="Only group marketing returns reports.",
            not_found="No such report in the user's scope.",
        ),
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        report = self.get_object()
        if not services.may_review(request.user):
            raise PermissionDenied(_("只有集团市场营销部可以确认或退回月度报表。"))
        data = s.ReportReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.report_return(report=report, by=request.user, reason=data.validated_data["reason"])
        )

    @extend_schema(
        request=None,
        responses=answers(
            s.MonthlyReportSerializer,
            refused="The user belongs to no branch that reports monthly.",
            forbidden="The user's role reads no monthly reports.",
            not_found="The user's branch is outside their scope (e.g. suspended).",
        ),
    )
    @action(detail=False, methods=["post"])
    def current(self, request):
        """The user's branch's report of the current period, assembled on first opening as the
        page does (assessments:report-current); idempotent. Drafts show live figures."""
        branch = request.user.branch
        if branch is None or branch.kind == Branch.Kind.HQ:
            raise APIValidationError({"detail": [_("只有分子公司有月度报表。")]})
        if not Branch.objects.restrict(request.user, "view").filter(pk=branch.pk).exists():
            raise NotFound()
        report = services.report_open(branch=branch, period=fig.Period.containing())
        return self._answer(get_object_or_404(self.get_queryset(), pk=report.pk))

    @extend_schema(
        request=s.PeriodCloseSerializer,
        responses=answers(
            s.MonthlyCloseSerializer,
            202,
            refused="Not a period (YYYY-MM), or its deadline has not passed.",
            forbidden="Only administrators and group marketing close a period by hand.",
        ),
    )
    @action(detail=False, methods=["post"])
    def close(self, request):
        """R28 by hand: close a period whose deadline has passed. Answers at once (202); the
        worker closes each branch and builds the roll-up; read the progress from the answer's
        fields by posting again (idempotent) or on the page."""
        if not may_close(request.user):
            raise PermissionDenied(_("只有系统管理员和集团市场营销部可以手动执行月度截止。"))
        data = s.PeriodCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        from ..tasks import dispatch_close

        close = dispatch_close(data.validated_data["period"], by=request.user)
        close.refresh_from_db()
        return Response(s.MonthlyCloseSerializer(close).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=s.PeriodCloseSerializer,
        responses={
            202: s.MonthlyCloseSerializer,
            409: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The closing has not failed (running or done): nothing to retry; "
                "``current`` is the closing as it is.",
            ),
            **refusals(
                refused="Not a period (YYYY-MM).",
                forbidden="Only administrators and group marketing retry a closing.",
                not_found="No closing of that period.",
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="close-retry", url_name="close-retry")
    def close_retry(self, request):
        """R55, the page's 重新执行: close again the branches whose part failed for good (their
        reasons are in ``failed_parts``); the closing is running again (202)."""
        from ..rounds.services import CLOSE

        if not may_close(request.user):
            raise PermissionDenied(str(CLOSE.retry_denied))
        data = s.PeriodCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return retry_round(request, CLOSE, data.validated_data["period"].label, s.MonthlyCloseSerializer)

    @extend_schema(
        parameters=[OpenApiParameter("period", str, description="YYYY-MM", required=True)],
        responses=s.RollupSerializer,
    )
    @action(detail=False, methods=["get"])
    def rollup(self, request):
        """R27: the group roll-up of a period: each branch's status, timeliness and figures, and
        the totals (rates recomputed from the summed counts)."""
        if not may_read_rollup(request.user):
            raise PermissionDenied(_("集团汇总仅供集团市场营销部、集团领导和考核人员查看。"))
        try:
            period = fig.Period.parse(request.query_params.get("period", ""))
        except ValueError as error:
            raise APIValidationError({"period": [str(error)]}) from None
        data = services.rollup(request.user, period)
        keys = fig.keys()
        rows = [
            {
                "branch": row["branch"].pk,
                "branch_name": str(row["branch"]),
                "report": row["report"].pk if row["report"] else None,
                "status": row["report"].status if row["report"] else None,
                "timeliness": row["timeliness"],
                "on_time": row["report"].on_time if row["report"] else None,
                "submitted_at": row["report"].submitted_at if row["report"] else None,
                "figures": {k: row["values"].get(k) for k in keys},
            }
            for row in data["rows"]
        ]
        return Response(
            s.RollupSerializer(
                {
                    "period": period.label,
                    "rows": rows,
                    "totals": {k: data["totals"].get(k) for k in keys},
                    "counts": data["counts"],
                }
            ).data
        )


class AnyRole(permissions.BasePermission):
    """R29: rankings go to leaders and branches: every person with a role reads them."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.role or user.is_superuser))


class RankingViewSet(NoCollectionPost, RestrictedReadOnlyViewSet):
    """The rankings of the branches by their A, B and C clients (R29); group marketing writes
    its evaluation with ``remarks``."""

    queryset = Ranking.objects.order_by("-as_of", "kind")
    serializer_class = s.RankingSerializer
    permission_classes = [permissions.IsAuthenticated, AnyRole]
    filterset_fields = ["kind", "label"]
    http_method_names = ["get", "post", "head", "options"]
    # Every role reads every ranking; the service decides who writes (403 for anyone else).
    action_scopes = {"remarks": "view"}

    @extend_schema(
        request=s.RankingRemarksSerializer,
        responses=answers(
            s.RankingSerializer,
            refused="The remarks are too long.",
            forbidden="Only group marketing evaluates rankings.",
            not_found="No such ranking.",
        ),
    )
    @action(detail=True, methods=["post"])
    def remarks(self, request, pk=None):
        """R29: group marketing's evaluation of the ranking (replaces the previous one)."""
        ranking = self.get_object()
        data = s.RankingRemarksSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ranking = services.ranking_set_remarks(
            ranking=ranking, by=request.user, remarks=data.validated_data["remarks"]
        )
        return self.answer(ranking, s.RankingSerializer)
