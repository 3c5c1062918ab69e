"""Escalation policies and the engine that pages the next level when nobody acknowledges
(docs/escalation.md)."""
