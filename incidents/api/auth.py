"""API authentication: tokens as ``Authorization: Bearer <token>`` (docs/security.md, "API tokens")."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .tokens import api_token_lookup


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token header parsing, spoken as ``Bearer``, over our hashed ``ApiToken`` rows
    (tokens come from ``manage.py create_api_token``)."""

    keyword = "Bearer"

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Any]:
        row = api_token_lookup(key)
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not row.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return row.user, row
