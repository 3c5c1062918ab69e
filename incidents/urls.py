from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("incidents/new", views.incident_declare, name="declare"),
    path("incidents/<int:pk>/", views.incident_detail, name="detail"),
    path("incidents/<int:pk>/timeline", views.incident_timeline_partial, name="timeline"),
    path("incidents/<int:pk>/acknowledge", views.incident_acknowledge, name="acknowledge"),
    path("incidents/<int:pk>/mitigate", views.incident_mitigate, name="mitigate"),
    path("incidents/<int:pk>/resolve", views.incident_resolve, name="resolve"),
    path("incidents/<int:pk>/reopen", views.incident_reopen, name="reopen"),
    path("incidents/<int:pk>/close", views.incident_close, name="close"),
    path("incidents/<int:pk>/assign", views.incident_assign, name="assign"),
    path("incidents/<int:pk>/severity", views.incident_change_severity, name="severity"),
    path("incidents/<int:pk>/notes", views.incident_add_note, name="note"),
]
