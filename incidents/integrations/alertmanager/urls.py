"""Alertmanager pages, mounted under /integrations/ (the webhook itself is /hooks/alertmanager)."""

from django.urls import path

from . import views

app_name = "alertmanager"

urlpatterns = [
    path("", views.integration_list, name="list"),
    path("alertmanager/new", views.integration_create, name="integration-create"),
    path("alertmanager/<int:pk>/", views.integration_detail, name="integration-detail"),
    path("alertmanager/<int:pk>/edit", views.integration_edit, name="integration-edit"),
    path("alertmanager/<int:pk>/enabled", views.integration_toggle, name="integration-toggle"),
    path("alertmanager/<int:pk>/rotate-token", views.integration_rotate, name="integration-rotate"),
    path("maintenance/", views.maintenance_list, name="maintenance"),
    path("maintenance/<int:pk>/end", views.maintenance_end, name="maintenance-end"),
    path("maintenance/<int:pk>/delete", views.maintenance_delete, name="maintenance-delete"),
    path("incidents/<int:incident_pk>/alerts", views.incident_alerts, name="incident-alerts"),
    path("incidents/<int:incident_pk>/silences", views.silence_panel, name="silence-panel"),
    path("incidents/<int:incident_pk>/silences/new", views.silence_create, name="silence-create"),
    path("incidents/<int:incident_pk>/silences/refresh", views.silence_refresh, name="silence-refresh"),
    path("silences/<int:pk>/expire", views.silence_expire, name="silence-expire"),
]
