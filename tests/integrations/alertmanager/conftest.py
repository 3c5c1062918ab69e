"""The webhook test client, for every test module in this folder. Personas and signed-in clients
(``responder_client``, ``staff_client``) are in tests/conftest.py."""

from __future__ import annotations

from .webhook_support import hook  # noqa: F401 - a fixture, used by name
