"""Integration tokens: high-entropy, stored only as a hash, shown once, rotatable."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Integration
from incidents.integrations.alertmanager.tokens import (
    generate_token,
    integration_for_token,
    integration_rotate_token,
)
from incidents.models import Service
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.tokens import hash_token

pytestmark = pytest.mark.django_db


def test_it_stores_only_the_hash_and_a_prefix_of_the_token() -> None:
    integration, token = integration_create(name="prod")

    assert len(token) >= 40
    assert integration.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(integration.token_prefix) and len(integration.token_prefix) <= 12
    stored = Integration.objects.filter(pk=integration.pk).values()[0]
    assert token not in {str(v) for v in stored.values()}


def test_it_finds_the_integration_by_its_token_only() -> None:
    integration, token = integration_create(name="prod")
    integration_create(name="staging")

    assert integration_for_token(token) == integration
    assert integration_for_token(token + "x") is None
    assert integration_for_token("") is None


def test_it_gives_every_integration_a_different_token() -> None:
    tokens = {integration_create(name=f"am-{i}")[1] for i in range(5)}

    assert len(tokens) == 5


def test_it_rotates_a_token_and_the_old_one_stops_working() -> None:
    integration, old = integration_create(name="prod")

    new = integration_rotate_token(integration=integration)

    assert new != old
    assert integration_for_token(old) is None
    assert integration_for_token(new) == integration
    integration.refresh_from_db()
    assert integration.token_rotated_at is not None


@override_settings(CONFIG_CACHE_SECONDS=0.3)
def test_a_token_rotated_or_an_integration_disabled_elsewhere_applies_within_the_cache_time() -> None:
    integration, token = integration_create(name="prod")
    assert integration_for_token(token) == integration  # kept in this process for a moment
    # Updates that fire no signal here: what another process's saves look like to this one.
    Integration.objects.filter(pk=integration.pk).update(enabled=False)

    found = integration_for_token(token)
    assert found is not None and found.enabled  # kept, briefly
    time.sleep(0.35)
    found = integration_for_token(token)
    assert found is not None and not found.enabled

    Integration.objects.filter(pk=integration.pk).update(token_hash="0" * 64)
    time.sleep(0.35)
    assert integration_for_token(token) is None


def test_a_token_tried_before_its_integration_existed_works_at_once() -> None:
    token = generate_token()
    assert integration_for_token(token) is None  # unknown tokens are not kept
    # Created by another process: no signal here.
    Integration.objects.bulk_create([Integration(name="late", token_hash=hash_token(token), token_prefix="amk_")])

    found = integration_for_token(token)
    assert found is not None and found.name == "late"


def test_it_refuses_a_duplicate_name() -> None:
    integration_create(name="prod")

    with pytest.raises(ApplicationError, match='named "prod" already exists'):
        integration_create(name="prod")


def test_it_refuses_an_empty_name() -> None:
    with pytest.raises(ApplicationError, match="needs a name"):
        integration_create(name="  ")


def test_it_refuses_grouping_by_labels_without_labels() -> None:
    with pytest.raises(ApplicationError, match="list of label names") as exc:
        integration_create(name="prod", grouping="labels", group_by_labels=[])
    assert exc.value.extra["field"] == "group_by_labels"


def test_it_refuses_a_mapping_to_an_unknown_severity() -> None:
    with pytest.raises(ApplicationError, match="no severity has that name"):
        integration_create(name="prod", severity_mapping={"critical": "SEV0"})


def test_it_refuses_a_broken_title_template() -> None:
    with pytest.raises(ApplicationError, match="title_template") as exc:
        integration_create(name="prod", title_template="{{ commonLabels.alertname ")
    assert not Integration.objects.exists()
    assert exc.value.extra["field"] == "title_template"


def test_the_command_prints_the_token_and_receiver_url() -> None:
    Service.objects.create(name="checkout")
    out = StringIO()

    call_command("create_integration", "alertmanager", "prod-am", "--service", "checkout",
                 "--group-by-labels", "alertname, service", "--inactivity-minutes", "30", stdout=out)

    integration = Integration.objects.get(name="prod-am")
    token = next(line.split(": ", 1)[1] for line in out.getvalue().splitlines() if line.startswith("Token"))
    assert integration_for_token(token) == integration
    assert "Receiver URL: http://127.0.0.1:8001/hooks/alertmanager" in out.getvalue()
    assert f"credentials: '{token}'" in out.getvalue()
    assert integration.default_service is not None and integration.default_service.name == "checkout"
    assert integration.group_by_labels == ["alertname", "service"]
    assert integration.inactivity_timeout == timedelta(seconds=1800)


def test_the_command_explains_a_taken_name() -> None:
    integration_create(name="prod-am")

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_integration", "alertmanager", "prod-am", stdout=StringIO())


def test_the_command_explains_an_unknown_service() -> None:
    with pytest.raises(CommandError, match='No service named "nope"'):
        call_command("create_integration", "alertmanager", "prod-am", "--service", "nope", stdout=StringIO())
