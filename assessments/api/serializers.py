from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm import figures as fig
from crm.api import fields as api_fields

from ..models import TIMELINESS, MonthlyClose, MonthlyReport, Ranking
from .common import FailedPartSerializer


def figures_field():
    """The figures of a report under their stable English keys (crm.figures), listed in the
    schema: counts are integers, rates numbers between 0 and 1 (null when nothing was due)."""
    fields = {f.key: serializers.IntegerField(help_text=str(f.label)) for f in fig.figures()}
    fields.update(
        {r.key: serializers.FloatField(allow_null=True, help_text=str(r.label)) for r in fig.rates()}
    )
    return serializers.Serializer.__class__("ReportFigures", (serializers.Serializer,), fields)


ReportFigures = figures_field()


class MonthlyReportSerializer(serializers.ModelSerializer):
    branch_name = serializers.CharField(source="branch.__str__", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    timeliness = serializers.SerializerMethodField()
    timeliness_label = serializers.SerializerMethodField()
    submitted_by = serializers.CharField(
        source="submitted_by.display_name", read_only=True, default=None, allow_null=True
    )
    frozen = serializers.BooleanField(source="is_frozen", read_only=True)
    figures = serializers.SerializerMethodField()
    deadline = serializers.SerializerMethodField()

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "branch",
            "branch_name",
            "period",
            "deadline",
            "status",
            "status_label",
            "timeliness",
            "timeliness_label",
            "on_time",
            "submitted_at",
            "submitted_by",
            "remarks",
            "returned_reason",
            "no_change",
            "frozen",
            "frozen_at",
            "figures",
        ]
        read_only_fields = fields

    def get_timeliness(self, obj) -> str:
        return obj.timeliness

    def get_timeliness_label(self, obj) -> str:
        return str(TIMELINESS[obj.timeliness])

    def get_deadline(self, obj) -> str:
        return obj.period_obj.deadline.isoformat()

    @extend_schema_field(ReportFigures)
    def get_figures(self, obj) -> dict:
        from ..monthly.services import report_values

        values = report_values(obj, self.context["request"].user)
        return {key: values.get(key) for key in fig.keys()}


class ReportSubmitSerializer(serializers.Serializer):
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RankingRemarksSerializer(serializers.Serializer):
    remarks = serializers.CharField(allow_blank=True, max_length=2000)


class ReportReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class PeriodCloseSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=7, help_text="YYYY-MM")

    def validate_period(self, value):
        try:
            return fig.Period.parse(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class MonthlyCloseSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(read_only=True)
    failed_parts = FailedPartSerializer(many=True, read_only=True)

    class Meta:
        model = MonthlyClose
        fields = [
            "id", "period", "state", "total", "done", "progress", "started_at", "finished_at",
            "failed_at", "retries", "failed_parts",
        ]  # fmt: skip
        read_only_fields = fields


class RollupRowSerializer(serializers.Serializer):
    branch = serializers.IntegerField()
    branch_name = serializers.CharField()
    report = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    timeliness = serializers.CharField()
    on_time = serializers.BooleanField(allow_null=True)
    submitted_at = api_fields.DateTimeField(allow_null=True)
    figures = ReportFigures()


class RollupSerializer(serializers.Serializer):
    period = serializers.CharField()
    rows = RollupRowSerializer(many=True)
    totals = ReportFigures()
    counts = serializers.DictField(child=serializers.IntegerField())


class RankingSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Ranking
        fields = ["id", "kind", "kind_label", "label", "as_of", "rows", "remarks", "remarks_at"]
        read_only_fields = fields
