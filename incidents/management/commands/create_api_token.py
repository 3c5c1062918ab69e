"""``manage.py create_api_token <username> [--rotate]``: print a user's API token.

Only the token goes to stdout, so ``TOKEN=$(python manage.py create_api_token alice)`` works;
what happened (created, rotated, existing) goes to stderr.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.api.tokens import api_token_issue


class Command(BaseCommand):
    help = "Print the API token of a user, creating it if missing (--rotate replaces it)."

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
        token, created = api_token_issue(user=user, rotate=rotate)
        what = "Rotated" if rotate else ("Created" if created else "Existing")
        self.stderr.write(f"{what} API token for {username}. Send it as: Authorization: Bearer <token>")
        self.stdout.write(token.key)
