from django.urls import include, path

from .dashboards import views as dashboards
from .monthly import views
from .review import views as review
from .rounds import views as rounds

app_name = "assessments"

urlpatterns = [
    path("", views.report_list, name="report-list"),
    path("monthly/current/", views.report_current, name="report-current"),
    path("monthly/<int:pk>/", views.report_detail, name="report-detail"),
    path("monthly/<int:pk>/figures/<slug:key>/", views.report_figure, name="report-figure"),
    path("monthly/<int:pk>/remarks/", views.report_remarks, name="report-remarks"),
    path("monthly/<int:pk>/submit/", views.report_submit, name="report-submit"),
    path("monthly/<int:pk>/accept/", views.report_accept, name="report-accept"),
    path("monthly/<int:pk>/return/", views.report_return, name="report-return"),
    path("rollup/", views.rollup, name="rollup"),
    path("rollup/figures/<slug:key>/", views.rollup_figure, name="rollup-figure"),
    path("close/", views.close_list, name="close-list"),
    path("close/<str:period>/", rounds.close_detail, name="close-detail"),
    path("close/<str:period>/retry/", rounds.close_retry, name="close-retry"),
    path("rankings/", views.ranking_list, name="ranking-list"),
    path("rankings/<int:pk>/", views.ranking_detail, name="ranking-detail"),
    path("rankings/<int:pk>/clients/", views.ranking_clients, name="ranking-clients"),
    path("owed/", review.owed, name="owed"),
    path("analysis/", review.analysis_list, name="analysis-list"),
    path("analysis/current/", review.analysis_current, name="analysis-current"),
    path("analysis/<int:pk>/", review.analysis_detail, name="analysis-detail"),
    path("analysis/<int:pk>/judge/", review.analysis_judge, name="analysis-judge"),
    path("analysis/<int:pk>/clients/", review.client_analysis_add, name="client-analysis-add"),
    path("analysis/summary/<str:half_year>/", review.summary_group, name="summary-group"),
    path("assessments/", review.assessment_list, name="assessment-list"),
    path("assessments/open/", review.assessment_open, name="assessment-open"),
    path("assessments/rounds/<str:half_year>/", rounds.round_detail, name="round-detail"),
    path("assessments/rounds/<str:half_year>/retry/", rounds.round_retry, name="round-retry"),
    path("assessments/<int:pk>/", review.assessment_detail, name="assessment-detail"),
    path("assessments/<int:pk>/checks/<int:check_pk>/", review.spot_check, name="assessment-check"),
    path("assessments/<int:pk>/rate/", review.assessment_rate, name="assessment-rate"),
    path("summaries/<int:pk>/", review.summary_detail, name="summary-detail"),
    path("need-analysis/", include("assessments.needreports.urls")),
    path("departments/", include("assessments.deptreports.urls")),
    path("review-meetings/", include("assessments.circulars.urls")),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("dashboard/figures/<slug:key>/", dashboards.dashboard_figure, name="dashboard-figure"),
    path("dashboard/transitions/", dashboards.dashboard_transitions, name="dashboard-transitions"),
    path("dashboard/grades-at/", dashboards.dashboard_grades_at, name="dashboard-grades-at"),
]
