"""``manage.py create_api_token <username> [--rotate]``: make a user's API token and print it once.

Only the token goes to stdout, so ``TOKEN=$(python manage.py create_api_token alice)`` works;
what happened goes to stderr. Tokens are stored hashed: an existing one cannot be printed again,
``--rotate`` replaces it (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.api.tokens import api_token_issue
from opsportal.lib.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Make a user's API token and print it; it is shown only this once (--rotate replaces it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user the token authenticates as.")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the existing token; the old one stops working."
        )

    def handle(self, *args: Any, username: str, rotate: bool, **options: Any) -> None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(
                f'No user named "{username}". Create one with: python manage.py createsuperuser'
            )
        if not user.is_active:
            raise CommandError(f'User "{username}" is deactivated; the API would refuse their token.')
        try:
            row, token = api_token_issue(user=user, rotate=rotate)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} Run again with --rotate.") from None
        what = "Rotated" if rotate else "Created"
        self.stderr.write(
            f"{what} API token {row.prefix}… for {username}; it is shown only this once. "
            "Send it as: Authorization: Bearer <token>"
        )
        self.stdout.write(token)
