"""URLs of design fees and on-site service (included by clients/urls.py under "projects/" in
the "clients" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("unsettled/", v.unsettled_list, name="project-unsettled"),
    path("<int:pk>/", v.project_detail, name="project-detail"),
    path("<int:pk>/collections/add/", v.fee_collection_add, name="fee-collection-add"),
    path("<int:pk>/settle/", v.project_settle, name="project-settle"),
    path("<int:pk>/site-services/add/", v.site_service_add, name="site-service-add"),
    path("collections/<int:pk>/reverse/", v.fee_collection_reverse, name="fee-collection-reverse"),
    path("site-services/<int:pk>/edit/", v.site_service_edit, name="site-service-edit"),
]
