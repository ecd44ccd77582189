from django.urls import path

from . import views

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
    path("close/", views.close_list, name="close-list"),
    path("rankings/", views.ranking_list, name="ranking-list"),
    path("rankings/<int:pk>/", views.ranking_detail, name="ranking-detail"),
]
