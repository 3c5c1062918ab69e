"""What a process would otherwise build on its first message, built at its start: the URL map
(every message links to its incident; Django reads the whole URLconf the first time a URL is
reversed), each message channel's built-in templates, compiled, and in a worker what each
configured channel's first send loads (PagerDuty's HTTP transport). Measured on the notifications
benchmark's storm, a webhook process paid this in its first posts after a start: about a tenth of
its CPU over the storm, and as much of the first alert's answer (docs/production.md, "Warm start").
"""

from __future__ import annotations

import logging

from django.urls import reverse

from incidents.notifications.rendering import compile_defaults
from incidents.registry import registry

log = logging.getLogger(__name__)


def warm_up(*, sending: bool = False) -> None:
    """``sending``: a worker process, which also lets each configured channel load what its first
    send needs (``warm_up`` of its sender). Never stops a start: a failure here only means the
    first message pays as before."""
    try:
        reverse("incidents:detail", args=[1])
        compile_defaults()
        if sending:
            for channel in registry.message_channels:
                hook = getattr(channel.sender, "warm_up", None)
                if hook is not None and channel.sender.configured():
                    hook()
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("warm-up at process start failed; the first message will build what it needs", exc_info=True)
