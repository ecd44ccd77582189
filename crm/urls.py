from django.contrib import admin
from django.urls import include, path

from . import health, metrics, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
    path("search/", views.global_search, name="global-search"),
    path("", include("crm.outbox.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("crm.api.urls")),
    path("clients/", include("clients.urls")),
    path("complaints/", include("complaints.urls")),
    path("surveys/", include("surveys.urls")),
    path("reports/", include("assessments.urls")),
    path("robots/", include("crm.robots.urls")),
    # For the operator (no login, no data): answered by crm.health.OperatorEndpointsMiddleware
    # before the host check; listed here for reverse() and the route listing.
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler403 = "crm.views.error_403"
handler404 = "crm.views.error_404"
handler500 = "crm.views.error_500"
