from django.urls import path

from . import views

app_name = "runbooks"

urlpatterns = [
    path("", views.runbook_list, name="list"),
    path("new", views.runbook_edit, name="new"),
    path("import", views.runbook_import_view, name="import"),
    path("<int:pk>/", views.runbook_edit, name="edit"),
    path("incidents/<int:pk>/panel", views.run_panel, name="panel"),
    path("incidents/<int:pk>/start", views.run_start, name="start"),
    path("runs/<int:run_pk>/<slug:action>", views.run_action, name="run-action"),
]
