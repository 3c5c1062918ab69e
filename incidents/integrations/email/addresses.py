"""Email targets: comma-separated address lists ("oncall@example.com, Ops <ops@example.com>")."""

from __future__ import annotations

from email.utils import formataddr, getaddresses

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from incidents.notifications.models import TARGET_MAX


class InvalidAddress(ValueError):
    pass


def parse(target: str) -> list[str]:
    """The addresses of a target, each checked; InvalidAddress names the first bad one."""
    parts = [p.strip() for p in target.split(",") if p.strip()]
    if not parts:
        raise InvalidAddress("The target holds no email address.")
    addresses = []
    for part in parts:
        pairs = getaddresses([part])
        name, address = pairs[0] if len(pairs) == 1 else ("", "")
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidAddress(f'"{part}" is not an email address.') from None
        addresses.append(formataddr((name, address)) if name else address)
    return addresses


def targets(addresses: str) -> list[str]:
    """A setting's address list as targets that fit a target column: a long list becomes several
    targets (so several emails), never a value the database would refuse inside an incident change."""
    chunks: list[str] = []
    for part in (p.strip() for p in addresses.split(",")):
        if not part:
            continue
        if chunks and len(chunks[-1]) + 2 + len(part) <= TARGET_MAX:
            chunks[-1] = f"{chunks[-1]}, {part}"
        else:
            chunks.append(part[:TARGET_MAX])
    return chunks
