"""URLs of the access pages (included by clients/urls.py under the "clients" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("requests/", v.access_request_list, name="access-request-list"),
    path("requests/review/", v.access_request_list, {"queue": "review"}, name="access-request-review"),
    path("requests/approval/", v.access_request_list, {"queue": "approval"}, name="access-request-approval"),
    path("requests/new/", v.access_request_create, name="access-request-create"),
    path("requests/targets/", v.access_request_targets, name="access-request-targets"),
    path("requests/<int:pk>/", v.access_request_detail, name="access-request-detail"),
    path("requests/<int:pk>/<slug:step>/", v.access_request_step, name="access-request-step"),
    path("grants/", v.access_grant_list, name="access-grant-list"),
    path("log/", v.access_log_list, name="access-log-list"),
    path("transfer/", v.client_transfer_search, name="client-transfer-search"),
    path("transfer/<int:pk>/", v.client_transfer, name="client-transfer"),
]
