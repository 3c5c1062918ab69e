"""Alertmanager pages, mounted under /integrations/ (the webhook itself is /hooks/alertmanager)."""

from django.urls import path

from .views import incident_panels, integrations, maintenance

app_name = "alertmanager"

urlpatterns = [
    path("", integrations.integration_list, name="list"),
    path("alertmanager/new", integrations.integration_create, name="integration-create"),
    path("alertmanager/<int:pk>/", integrations.integration_detail, name="integration-detail"),
    path("alertmanager/<int:pk>/edit", integrations.integration_edit, name="integration-edit"),
    path("alertmanager/<int:pk>/enabled", integrations.integration_toggle, name="integration-toggle"),
    path("alertmanager/<int:pk>/rotate-token", integrations.integration_rotate, name="integration-rotate"),
    path("maintenance/", maintenance.maintenance_list, name="maintenance"),
    path("maintenance/<int:pk>/end", maintenance.maintenance_end, name="maintenance-end"),
    path("maintenance/<int:pk>/delete", maintenance.maintenance_delete, name="maintenance-delete"),
    path("incidents/<int:incident_pk>/alerts", incident_panels.incident_alerts, name="incident-alerts"),
    path("incidents/<int:incident_pk>/silences", incident_panels.silence_panel, name="silence-panel"),
    path("incidents/<int:incident_pk>/silences/new", incident_panels.silence_create, name="silence-create"),
    path("incidents/<int:incident_pk>/silences/refresh", incident_panels.silence_refresh, name="silence-refresh"),
    path("silences/<int:pk>/expire", incident_panels.silence_expire, name="silence-expire"),
]
