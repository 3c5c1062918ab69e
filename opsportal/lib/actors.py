"""Who did something: a signed-in user, an anonymous request, or the system itself (None: the
scheduler, a webhook). Services take any of them; rows store a user or nothing."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

Actor = AbstractBaseUser | AnonymousUser | None


def stored_user(actor: Actor) -> User | None:
    """The user to record on a row (``created_by``, a timeline event's actor): None for the
    system and for anonymous requests."""
    return actor if isinstance(actor, User) else None
