"""Runbook models arrive with the runbooks issue; the app exists so its place in the layout is fixed."""
