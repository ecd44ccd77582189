"""URLs of the need analysis report's pages (R65-R69), included by assessments/urls.py under
"need-analysis/" in the "assessments" namespace."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.report_list, name="need-report-list"),
    path("open/", v.report_open, name="need-report-open"),
    path("<int:pk>/", v.report_detail, name="need-report-detail"),
    path("<int:pk>/figures/<slug:key>/", v.report_figure, name="need-report-figure"),
    path("<int:pk>/save/", v.report_save, name="need-report-save"),
    path("<int:pk>/submit/", v.report_submit, name="need-report-submit"),
    path("<int:pk>/review/", v.report_review, name="need-report-review"),
    path("<int:pk>/meetings/", v.meeting_add, name="need-meeting-add"),
    path("meetings/<int:pk>/decisions/", v.decision_add, name="need-decision-add"),
    path("decisions/<int:pk>/done/", v.decision_done, name="need-decision-done"),
]
