"""API tokens at rest: only a hash and a prefix in the database, the admin shows the prefix only,
the session never holds one, and tokens from before (DRF's clear-text table) keep working."""

from __future__ import annotations

import hashlib
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from incidents.api.tokens import api_token_issue
from incidents.models import ApiToken

URL = "/api/v1/incidents/"


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_token_works_and_records_when_it_was_last_used(responder, db) -> None:
    _, token = api_token_issue(user=responder)
    assert ApiToken.objects.get().last_used_at is None

    assert _bearer(token).get(URL).status_code == 200

    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_is_not_kept_in_the_session(responder, db) -> None:
    _, token = api_token_issue(user=responder)
    client = _bearer(token)

    client.get(URL)

    assert "sessionid" not in client.cookies


def test_the_admin_lists_the_prefix_and_never_the_token(admin_client, responder) -> None:
    row, token = api_token_issue(user=responder)

    listing = admin_client.get("/admin/incidents/apitoken/").content.decode()
    detail = admin_client.get(f"/admin/incidents/apitoken/{row.pk}/change/").content.decode()

    assert row.prefix in listing and "responder" in listing
    assert token not in listing and token not in detail
    assert row.token_hash not in listing and row.token_hash not in detail
    assert admin_client.get("/admin/incidents/apitoken/add/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_clear_text_tokens_from_before_are_hashed_and_their_table_dropped(responder) -> None:
    """The data migration on a database that still has DRF's authtoken_token table."""
    migration = importlib.import_module("incidents.migrations.0004_api_token")
    legacy_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone "
            "NOT NULL, user_id integer NOT NULL)".replace(" with time zone", "" if connection.vendor == "sqlite" else " with time zone")
        )
        cursor.execute("INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                       [legacy_key, "2026-01-02T03:04:05+00:00", responder.pk])
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', %s)",
                       ["2026-01-02T03:04:05+00:00"])

    with connection.schema_editor() as editor:
        migration.hash_legacy_tokens(apps, editor)

    row = ApiToken.objects.get(user=responder)
    assert row.token_hash == hashlib.sha256(legacy_key.encode()).hexdigest()
    assert row.prefix == legacy_key[:8]
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0
    assert _bearer(legacy_key).get(URL).status_code == 200
    assert Client().get("/").status_code == 302  # the app still answers
