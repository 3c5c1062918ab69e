"""The OpenAPI document and the interactive docs, which must work without internet access."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

INCIDENT_PATHS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/{incident_id}/",
    "/api/v1/incidents/{incident_id}/timeline/",
    "/api/v1/incidents/{incident_id}/acknowledge/",
    "/api/v1/incidents/{incident_id}/mitigate/",
    "/api/v1/incidents/{incident_id}/resolve/",
    "/api/v1/incidents/{incident_id}/reopen/",
    "/api/v1/incidents/{incident_id}/close/",
    "/api/v1/incidents/{incident_id}/assign/",
    "/api/v1/incidents/{incident_id}/severity/",
    "/api/v1/incidents/{incident_id}/notes/",
    "/api/v1/severities/",
    "/api/v1/services/",
]


def test_it_serves_an_openapi_3_document_listing_the_incident_api(db) -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(INCIDENT_PATHS) <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/incidents/"]) == {"get", "post"}
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "create_api_token" in schema["components"]["securitySchemes"]["bearerAuth"]["description"]
    acknowledge = schema["paths"]["/api/v1/incidents/{incident_id}/acknowledge/"]["post"]
    assert {"bearerAuth": []} in acknowledge["security"]
    assert {"200", "401", "404", "409"} <= set(acknowledge["responses"])


def test_it_passes_drf_spectacular_validation_without_warnings(db, tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/incidents/{incident_id}/acknowledge/" in out.read_text()


def test_it_serves_the_interactive_docs_from_local_static_files(db) -> None:
    response = APIClient().get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert "/api/v1/schema/" in html
