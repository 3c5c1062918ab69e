"""Admins link a Slack user by hand when the emails differ."""

from __future__ import annotations

from django.contrib import admin

from .models import SlackInvite, SlackUserLink


@admin.register(SlackUserLink)
class SlackUserLinkAdmin(admin.ModelAdmin[SlackUserLink]):
    list_display = ("slack_user_id", "team_id", "user", "email", "created_at")
    search_fields = ("slack_user_id", "email", "user__username")
    raw_id_fields = ("user",)


@admin.register(SlackInvite)
class SlackInviteAdmin(admin.ModelAdmin[SlackInvite]):
    list_display = ("incident", "user", "invited_at", "last_error")
    raw_id_fields = ("incident", "user")
