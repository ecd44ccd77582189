"""Pages of the group chat robots (administrators only; R116)."""

from django.urls import path

from . import views as v

app_name = "robots"

urlpatterns = [
    path("", v.robot_list, name="robot-list"),
    path("new/", v.robot_create, name="robot-create"),
    path("<int:pk>/", v.robot_detail, name="robot-detail"),
    path("<int:pk>/edit/", v.robot_edit, name="robot-edit"),
    path("<int:pk>/active/", v.robot_set_active, name="robot-active"),
    path("<int:pk>/test/", v.robot_test, name="robot-test"),
]
