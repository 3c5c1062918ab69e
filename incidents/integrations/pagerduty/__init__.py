"""PagerDuty both ways (docs/pagerduty.md): incidents go out as Events API v2 trigger / acknowledge /
resolve events with one dedup key per incident, and acknowledgements and resolutions made in
PagerDuty come back through its v3 webhooks and the lifecycle, without echoing back."""
