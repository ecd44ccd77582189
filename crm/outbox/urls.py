from django.urls import path

from . import views

urlpatterns = [
    path("deliveries/", views.delivery_list, name="delivery-list"),
    path("deliveries/resend/", views.deliveries_resend, name="deliveries-resend"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery-resend"),
    path("accounts/preferences/", views.preferences, name="preferences"),
]
