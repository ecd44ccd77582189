"""/api/monthly-reports/ and /api/rankings/ (R26-R29). Reads through ``restrict``; the workflow
steps are actions answered by the services' refusals: 403 for a missing role, 400 with a
message for a refused step, 404 out of scope."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from crm import figures as fig
from crm.api.base import RestrictedReadOnlyViewSet

from .. import services
from ..models import MonthlyReport, Ranking
from ..views import may_close, may_read_rollup
from . import serializers as s


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


class MonthlyReportViewSet(RestrictedReadOnlyViewSet):
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
        "rollup": "view",
    }

    @extend_schema(request=s.ReportSubmitSerializer, responses=s.MonthlyReportSerializer)
    def partial_update(self, request, *args, **kwargs):
        """PATCH ``{"remarks"}``: the branch manager's remarks on a report not yet submitted."""
        report = self.get_object()
        data = s.ReportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        remarks = data.validated_data.get("remarks", report.remarks)
        return self._answer(services.report_set_remarks(report=report, by=request.user, remarks=remarks))

    def _answer(self, report):
        return Response(s.MonthlyReportSerializer(report, context=self.get_serializer_context()).data)

    @extend_schema(request=s.ReportSubmitSerializer, responses=s.MonthlyReportSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = s.ReportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_submit(
            report=self.get_object(), by=request.user, remarks=data.validated_data.get("remarks")
        )
        return self._answer(report)

    @extend_schema(request=None, responses=s.MonthlyReportSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(services.report_accept(report=self.get_object(), by=request.user))

    @extend_schema(request=s.ReportReturnSerializer, responses=s.MonthlyReportSerializer)
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

    @extend_schema(request=s.PeriodCloseSerializer, responses={202: s.MonthlyCloseSerializer})
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


class RankingViewSet(RestrictedReadOnlyViewSet):
    queryset = Ranking.objects.order_by("-as_of", "kind")
    serializer_class = s.RankingSerializer
    permission_classes = [permissions.IsAuthenticated, AnyRole]
    filterset_fields = ["kind", "label"]
