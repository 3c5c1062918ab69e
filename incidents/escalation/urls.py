"""Escalation pages, mounted under /escalation/."""

from django.urls import path

from . import views

app_name = "escalation"

urlpatterns = [
    path("policies/", views.policy_list, name="policies"),
    path("policies/<int:pk>/", views.policy_detail, name="policy"),
    path("policies/<int:pk>/<slug:action>", views.policy_change, name="policy-change"),
    path("incidents/<int:incident_pk>/", views.incident_escalation, name="incident"),
    path("incidents/<int:incident_pk>/escalate", views.incident_escalate, name="escalate"),
    path("incidents/<int:incident_pk>/page", views.incident_page, name="page"),
]
