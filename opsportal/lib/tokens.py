"""Secrets we hand out (API tokens, integration tokens): generated here, stored only as a hash.

A token is 256 random bits, so a plain SHA-256 (no salt, no slow hash) is enough: nobody can guess
one, and the hash lets a request find its owner with one indexed lookup instead of comparing
against every row. The short visible prefix says what the secret is when it turns up in a config
file or a log, and lets an admin tell tokens apart without ever seeing one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX_SHOWN = 12  # characters of a token kept in clear (the kind prefix plus a few random ones)


def generate_token(kind_prefix: str) -> str:
    """A new token such as ``opk_3q2...``: the kind prefix, then 256 random bits."""
    return kind_prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def visible_prefix(token: str) -> str:
    return token[:PREFIX_SHOWN]


def digests_match(stored: str, digest: str) -> bool:
    """Constant-time comparison, so a lookup's timing says nothing about a near miss."""
    return hmac.compare_digest(stored, digest)
