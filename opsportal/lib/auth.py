"""API token authentication with the standard ``Authorization: Bearer <token>`` header."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token auth, spoken as ``Bearer`` (tokens come from ``manage.py create_api_token``)."""

    keyword = "Bearer"
