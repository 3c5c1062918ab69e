"""/api/v1/ routes. Each operation is its own APIView; list and create share their path."""

from __future__ import annotations

from django.urls import include, path

from incidents.escalation import api as escalation
from incidents.notifications import api as notifications

from . import actions, incidents, reference


class IncidentCollectionApi(incidents.IncidentListApi, incidents.IncidentCreateApi):
    """GET lists, POST declares: two operations on one path."""


app_name = "api"

urlpatterns = [
    path("incidents/", IncidentCollectionApi.as_view(), name="incident-list"),
    path("incidents/<int:incident_id>/", incidents.IncidentDetailApi.as_view(), name="incident-detail"),
    path(
        "incidents/<int:incident_id>/timeline/",
        incidents.IncidentTimelineApi.as_view(),
        name="incident-timeline",
    ),
    path(
        "incidents/<int:incident_id>/acknowledge/",
        actions.IncidentAcknowledgeApi.as_view(),
        name="incident-acknowledge",
    ),
    path(
        "incidents/<int:incident_id>/mitigate/",
        actions.IncidentMitigateApi.as_view(),
        name="incident-mitigate",
    ),
    path(
        "incidents/<int:incident_id>/resolve/", actions.IncidentResolveApi.as_view(), name="incident-resolve"
    ),
    path("incidents/<int:incident_id>/reopen/", actions.IncidentReopenApi.as_view(), name="incident-reopen"),
    path("incidents/<int:incident_id>/close/", actions.IncidentCloseApi.as_view(), name="incident-close"),
    path("incidents/<int:incident_id>/assign/", actions.IncidentAssignApi.as_view(), name="incident-assign"),
    path(
        "incidents/<int:incident_id>/severity/",
        actions.IncidentSeverityApi.as_view(),
        name="incident-severity",
    ),
    path("incidents/<int:incident_id>/notes/", actions.IncidentNoteApi.as_view(), name="incident-notes"),
    path(
        "incidents/<int:incident_id>/deliveries/",
        notifications.IncidentDeliveryListApi.as_view(),
        name="incident-deliveries",
    ),
    path("deliveries/<int:delivery_id>/retry/", notifications.DeliveryRetryApi.as_view(), name="delivery-retry"),
    path("notification-templates/", notifications.TemplateListApi.as_view(), name="template-list"),
    path(
        "notification-templates/<slug:channel>/<slug:event>/",
        notifications.TemplateDetailApi.as_view(),
        name="template-detail",
    ),
    path(
        "notification-templates/<slug:channel>/<slug:event>/preview/",
        notifications.TemplatePreviewApi.as_view(),
        name="template-preview",
    ),
    path("notification-routes/", notifications.RouteCollectionApi.as_view(), name="route-list"),
    path("notification-routes/<int:route_id>/", notifications.RouteDetailApi.as_view(), name="route-detail"),
    path("escalation-policies/", escalation.PolicyCollectionApi.as_view(), name="escalation-policy-list"),
    path("escalation-policies/<int:policy_id>/", escalation.PolicyDetailApi.as_view(),
         name="escalation-policy-detail"),
    path("incidents/<int:incident_id>/escalation/", escalation.IncidentEscalationApi.as_view(),
         name="incident-escalation"),
    path("incidents/<int:incident_id>/escalate/", escalation.IncidentEscalateApi.as_view(), name="incident-escalate"),
    path("incidents/<int:incident_id>/page/", escalation.IncidentPageApi.as_view(), name="incident-page"),
    path("severities/", reference.SeverityListApi.as_view(), name="severity-list"),
    path("services/", reference.ServiceListApi.as_view(), name="service-list"),
    path("", include("incidents.oncall.api_urls")),  # schedules, contact methods (docs/oncall.md)
]
