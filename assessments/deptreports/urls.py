"""URLs of the departments' reports to their branch (R80-R86), included by assessments/urls.py
under "departments/" in the "assessments" namespace."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.part_list, name="department-report-list"),
    path("current/", v.part_current, name="department-report-current"),
    path("deadline/", v.deadline_set, name="department-deadline"),
    path("<int:pk>/", v.part_detail, name="department-report-detail"),
    path("<int:pk>/figures/<slug:key>/", v.part_figure, name="department-report-figure"),
    path("<int:pk>/submit/", v.part_submit, name="department-report-submit"),
    path("<int:pk>/return/", v.part_return, name="department-report-return"),
    path("surveys/", v.survey_list, name="department-survey-list"),
    path("surveys/open/", v.survey_open, name="department-survey-open"),
    path("surveys/<int:pk>/", v.survey_detail, name="department-survey-detail"),
    path("surveys/<int:pk>/submit/", v.survey_submit, name="department-survey-submit"),
]
