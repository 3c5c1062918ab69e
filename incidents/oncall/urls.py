"""On-call pages and calendar feeds, mounted under /oncall/."""

from django.urls import path

from . import ical, views

app_name = "oncall"

urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("me/", views.me, name="me"),
    path("me/test-page", views.test_page, name="test-page"),
    path("me/feed/rotate", views.feed_rotate, name="feed-rotate"),
    path("me/contact-methods/<int:pk>/delete", views.contact_method_delete, name="contact-method-delete"),
    path("me/contact-methods/<int:pk>/verify", views.contact_method_verify, name="contact-method-verify"),
    path("schedules/<int:pk>/", views.schedule_detail, name="detail"),
    path("schedules/<int:pk>/delete", views.schedule_delete, name="delete"),
    path("schedules/<int:pk>/feed/rotate", views.schedule_feed_rotate, name="schedule-feed-rotate"),
    path("schedules/<int:pk>/layers/", views.layer_add, name="layer-add"),
    path("schedules/<int:pk>/layers/<int:layer_pk>/delete", views.layer_delete, name="layer-delete"),
    path("schedules/<int:pk>/layers/<int:layer_pk>/participants/", views.participant_add, name="participant-add"),
    path("schedules/<int:pk>/layers/<int:layer_pk>/participants/<int:participant_pk>/remove",
         views.participant_remove, name="participant-remove"),
    path("schedules/<int:pk>/layers/<int:layer_pk>/participants/<int:participant_pk>/move",
         views.participant_move, name="participant-move"),
    path("schedules/<int:pk>/overrides/", views.override_add, name="override-add"),
    path("schedules/<int:pk>/overrides/<int:override_pk>/delete", views.override_delete, name="override-delete"),
    path("ical/schedule/<str:token>.ics", ical.schedule_feed, name="ical-schedule"),
    path("ical/user/<str:token>.ics", ical.user_feed, name="ical-user"),
]
