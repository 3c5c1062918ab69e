from django.urls import path

from . import editor_views, views

app_name = "runbooks"

urlpatterns = [
    path("", views.runbook_list, name="list"),
    path("new", editor_views.runbook_new, name="new"),
    path("new/yaml", views.runbook_yaml, name="new-yaml"),
    path("import", views.runbook_import_view, name="import"),
    path("step-fields", editor_views.step_fields, name="step-fields"),
    path("<int:pk>/", editor_views.runbook_editor, name="edit"),
    path("<int:pk>/rename", editor_views.runbook_rename, name="rename"),
    path("<int:pk>/steps/item", editor_views.step_item, name="step-item"),
    path("<int:pk>/steps/<slug:op>", editor_views.step_change, name="step"),
    path("<int:pk>/yaml", views.runbook_yaml, name="yaml"),
    path("<int:pk>/export", views.runbook_export, name="export"),
    path("incidents/<int:pk>/panel", views.run_panel, name="panel"),
    path("incidents/<int:pk>/start", views.run_start, name="start"),
    path("runs/<int:run_pk>/<slug:action>", views.run_action, name="run-action"),
]
