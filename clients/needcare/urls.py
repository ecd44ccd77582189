"""URLs of the need's page and its steps (included by clients/urls.py, "clients" namespace)."""

from django.urls import path

from . import views as v

urlpatterns = [
    path("<int:pk>/", v.need_detail, name="need-detail"),
    path("<int:pk>/assess/", v.need_assess, name="need-assess"),
    path("<int:pk>/rate/", v.need_rate, name="need-rate"),
    path("<int:pk>/merge/", v.need_merge, name="need-merge"),
    path("<int:pk>/conflict/", v.need_conflict, name="need-conflict"),
    path("duplicates/", v.need_duplicates, name="need-duplicates"),
    path("<int:pk>/rating-link/", v.need_rating_link, name="need-rating-link"),
    path("rate/<str:token>/", v.need_rating_public, name="need-rating"),
]
