"""/api/v1/ routes of on-call, included by incidents/api/urls.py."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("schedules/", api.ScheduleCollectionApi.as_view(), name="schedule-list"),
    path("schedules/<int:schedule_id>/", api.ScheduleDetailApi.as_view(), name="schedule-detail"),
    path("schedules/<int:schedule_id>/oncall/", api.ScheduleOncallApi.as_view(), name="schedule-oncall"),
    path("schedules/<int:schedule_id>/overrides/", api.OverrideCollectionApi.as_view(), name="schedule-overrides"),
    path("schedules/<int:schedule_id>/overrides/<int:override_id>/", api.OverrideDetailApi.as_view(),
         name="schedule-override-detail"),
    path("users/me/contact-methods/", api.ContactMethodCollectionApi.as_view(), name="contact-method-list"),
    path("users/me/contact-methods/<int:method_id>/", api.ContactMethodDetailApi.as_view(),
         name="contact-method-detail"),
]
