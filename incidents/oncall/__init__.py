"""On-call schedules (layers, rotations, overrides), who is on call when, calendar feeds and each
user's contact methods (docs/oncall.md)."""
