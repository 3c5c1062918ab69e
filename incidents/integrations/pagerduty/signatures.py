"""The ``X-PagerDuty-Signature`` check of v3 webhooks (docs/pagerduty.md, "From PagerDuty back to Opsportal").

The header holds one or more comma-separated ``v1=<hex>`` signatures (several while PagerDuty
rotates the secret); each is an HMAC-SHA256 of the raw body with a signing secret. One match is
enough. Signatures are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

VERSION = "v1="


def sign(body: bytes, secret: str) -> str:
    return VERSION + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, secret: str) -> bool:
    if not secret or not header:
        return False
    expected = sign(body, secret).encode()
    found = False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith(VERSION):
            # No early exit: every offered signature is compared.
            found |= hmac.compare_digest(candidate.encode(), expected)
    return found
