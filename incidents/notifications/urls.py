"""Notification pages, mounted under /notifications/."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("templates/", views.template_list, name="templates"),
    path("templates/<slug:channel>/<slug:event>/", views.template_edit, name="template-edit"),
    path("templates/<slug:channel>/<slug:event>/preview", views.template_preview, name="template-preview"),
    path("templates/<slug:channel>/<slug:event>/reset", views.template_reset, name="template-reset"),
    path("routes/", views.route_list, name="routes"),
    path("routes/<int:pk>/delete", views.route_delete, name="route-delete"),
    path("incidents/<int:incident_pk>/deliveries", views.incident_deliveries, name="incident-deliveries"),
    path("deliveries/<int:pk>/retry", views.delivery_retry, name="delivery-retry"),
    path("deliveries/<int:pk>/preview", views.delivery_preview, name="delivery-preview"),
]
