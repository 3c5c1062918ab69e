"""Alertmanager pages, one module per page: integrations, maintenance, incident panels."""
