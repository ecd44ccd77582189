"""Pages of the archive; the import and access parts keep their URL modules in their packages."""

from django.urls import include, path

from . import views
from .cultivation import views as cultivation_views
from .giveups import views as give_up_views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="client-list"),
    path("export/", views.client_export, name="client-export"),
    path("new/", views.client_create, name="client-create"),
    path("<int:pk>/", views.client_detail, name="client-detail"),
    path("<int:pk>/tabs/<slug:tab>/", views.client_tab, name="client-tab"),
    path("<int:pk>/edit/", views.client_edit, name="client-edit"),
    path("<int:pk>/grade/", views.client_set_grade, name="client-set-grade"),
    path("<int:pk>/contacts/add/", views.contact_add, name="contact-add"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("<int:pk>/visits/add/", views.visit_add, name="visit-add"),
    path("visits/<int:pk>/edit/", views.visit_edit, name="visit-edit"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("<int:pk>/needs/add/", views.need_add, name="need-add"),
    path("needs/<int:pk>/edit/", views.need_edit, name="need-edit"),
    path("needs/<int:pk>/respond/", views.need_respond, name="need-respond"),
    path("<int:pk>/projects/add/", views.project_create, name="project-create"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project-edit"),
    path("<int:pk>/visit-plan/", views.visit_plan_edit, name="visit-plan-edit"),
    path("<int:pk>/give-up/", give_up_views.give_up_create, name="give-up-create"),
    path("<int:pk>/cultivation/", cultivation_views.cultivation_create, name="cultivation-create"),
    path("<int:pk>/evaluation/", cultivation_views.b_evaluation_create, name="b-evaluation-create"),
    path("needs/", views.need_list, name="need-list"),
    path("needs/tracking/", include("clients.tracking.urls")),
    path("needs/", include("clients.needcare.urls")),
    path("needs/export/", views.need_export, name="need-export"),
    path("visits/overdue/", views.visit_overdue_list, name="visit-overdue-list"),
    path("import/", include("clients.imports.urls")),
    path("access/", include("clients.access.urls")),
    path("give-ups/", include("clients.giveups.urls")),
    path("cultivation/", include("clients.cultivation.urls")),
    path("projects/", include("clients.projects.urls")),
    path("", include("clients.attachments.urls")),
]
