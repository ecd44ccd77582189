"""Admin of the surveys; every changelist and edit goes through ``restrict``."""

from django.contrib import admin

from crm.admin_base import RestrictedAdmin

from .models import (
    Answer,
    Campaign,
    CampaignBranchReport,
    Dimension,
    FollowUp,
    Question,
    Survey,
    SurveyTemplate,
    Target,
)


class DimensionInline(admin.TabularInline):
    model = Dimension
    extra = 0


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(RestrictedAdmin):
    list_display = ["name", "code", "is_active", "is_default"]
    inlines = [DimensionInline]


@admin.register(Dimension)
class DimensionAdmin(RestrictedAdmin):
    list_display = ["name", "template", "importance", "is_summary", "order"]
    list_filter = ["template"]
    inlines = [QuestionInline, TargetInline]


@admin.register(Campaign)
class CampaignAdmin(RestrictedAdmin):
    list_display = ["name", "template", "opens_on", "deadline", "status"]
    list_filter = ["status"]


@admin.register(Survey)
class SurveyAdmin(RestrictedAdmin):
    list_display = ["client", "template", "branch", "status", "answered_at", "unsatisfied_count"]
    list_filter = ["status", "branch", "template"]
    search_fields = ["client__name"]
    raw_id_fields = ["client", "project", "campaign"]
    readonly_fields = ["token_hash"]


@admin.register(FollowUp)
class FollowUpAdmin(RestrictedAdmin):
    list_display = ["client", "branch", "owner", "status", "created_at"]
    list_filter = ["status", "branch"]
    raw_id_fields = ["survey", "client"]


@admin.register(CampaignBranchReport)
class CampaignBranchReportAdmin(RestrictedAdmin):
    list_display = ["campaign", "branch", "created_at"]


@admin.register(Answer)
class AnswerAdmin(RestrictedAdmin):
    list_display = ["survey", "dimension", "score", "unsatisfied"]
    list_filter = ["unsatisfied", "dimension__template"]
    raw_id_fields = ["survey"]
