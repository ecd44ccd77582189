"""URLs of the tracking ledger and the weekly checks (included by clients/urls.py under
``needs/tracking/``, "clients" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("", v.need_ledger, name="need-ledger"),
    path("checks/", v.need_check_list, name="need-check-list"),
    path("checks/<int:pk>/", v.need_check_detail, name="need-check-detail"),
    path("findings/<int:pk>/remark/", v.need_check_remark, name="need-check-remark"),
]
