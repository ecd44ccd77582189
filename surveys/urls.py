"""Pages of the surveys, mounted at /surveys/ under the "surveys" namespace. ``answer`` is the
public page of the personal link (R22): no login."""

from django.urls import include, path

from . import views

app_name = "surveys"

urlpatterns = [
    path("", views.survey_list, name="survey-list"),
    path("new/", views.survey_create, name="survey-create"),
    path("<int:pk>/", views.survey_detail, name="survey-detail"),
    path("<int:pk>/send/", views.survey_send, name="survey-send"),
    path("<int:pk>/paper/", views.survey_paper, name="survey-paper"),
    path("a/<str:token>/", views.answer, name="answer"),
    path("follow-ups/", views.followup_list, name="followup-list"),
    path("follow-ups/<int:pk>/close/", views.followup_close, name="followup-close"),
    path("results/", views.results, name="results"),
    path("matrix/", views.matrix, name="matrix"),
    path("targets/", views.targets, name="targets"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/new/", views.template_edit, name="template-create"),
    path("templates/<int:pk>/", views.template_detail, name="template-detail"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template-edit"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/send/", views.campaign_send, name="campaign-send"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign-close"),
    path("improvements/", include("surveys.improvements.urls")),
]
